BENCH_RUN += bench/vnet/run
