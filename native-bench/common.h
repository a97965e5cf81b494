/* Shared helpers for the native floor benchmarks: monotonic ns clock and percentile reporting. */
#ifndef TW_COMMON_H
#define TW_COMMON_H
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

__attribute__((unused)) static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static inline uint64_t pct(const uint64_t *sorted, size_t n, double p) {
  size_t i = (size_t)(p / 100.0 * (double)n);
  if (i >= n) i = n - 1;
  return sorted[i];
}

/* Prints one result line: name, count, p50/p90/p99/p99.9/max in µs. Sorts v in place. */
__attribute__((unused)) static void report_us(const char *name, uint64_t *v, size_t n) {
  qsort(v, n, sizeof v[0], cmp_u64);
  printf("%-44s n=%-8zu p50 %8.2f  p90 %8.2f  p99 %8.2f  p99.9 %8.2f  max %9.2f  (us)\n", name, n, pct(v, n, 50) / 1e3,
         pct(v, n, 90) / 1e3, pct(v, n, 99) / 1e3, pct(v, n, 99.9) / 1e3, v[n - 1] / 1e3);
  fflush(stdout);
}

/* ns per operation of a tight loop, best of `reps` runs of `iters`. */
#define BEST_NS_PER_OP(reps, iters, body)                                   \
  ({                                                                        \
    double best_ = 1e300;                                                   \
    for (int r_ = 0; r_ < (reps); r_++) {                                   \
      uint64_t t0_ = now_ns();                                              \
      for (long i_ = 0; i_ < (iters); i_++) { body; }                       \
      double d_ = (double)(now_ns() - t0_) / (double)(iters);               \
      if (d_ < best_) best_ = d_;                                           \
    }                                                                       \
    best_;                                                                  \
  })
#endif
