# SPDX-License-Identifier: Apache-2.0
BENCH_RUN += bench/migrate/run
BENCH_RUN += bench/migrate/linux
