BENCH_RUN += bench/migrate/run
BENCH_RUN += bench/migrate/linux
