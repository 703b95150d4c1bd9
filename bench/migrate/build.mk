# SPDX-License-Identifier: Apache-2.0
# bench/migrate/run runs bench/migrate/linux's cases too (its Linux table), so only it is listed.
BENCH_RUN += bench/migrate/run
