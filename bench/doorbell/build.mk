BENCH_RUN += bench/doorbell/run
