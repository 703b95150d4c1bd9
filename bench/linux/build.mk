BENCH_RUN += bench/linux/run
