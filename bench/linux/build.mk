# SPDX-License-Identifier: Apache-2.0
BENCH_RUN += bench/linux/run
