BENCH_RUN += bench/interference/run
