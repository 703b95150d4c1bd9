BENCH_RUN += bench/migrate/run
