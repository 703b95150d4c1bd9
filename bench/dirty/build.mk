BENCH_RUN += bench/dirty/run
