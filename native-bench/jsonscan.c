/*
 * Binance depth diff (20 bids + 20 asks, ~1 KB) scanned into scaled integers without building any object:
 * the floor for what a hand-written JS byte scanner can do. Prices/quantities become integers scaled by 10^8.
 * ns per frame, best of 5; checksum printed so the work cannot be optimised away.
 */
#include "common.h"

static char frame[4096];
static size_t frame_len;

static void build_frame(void) {
  size_t k = (size_t)sprintf(frame, "{\"e\":\"depthUpdate\",\"E\":1763776800123,\"s\":\"BTCUSDT\",\"U\":71234567001,\"u\":71234567042,\"b\":[");
  for (int i = 0; i < 20; i++) k += (size_t)sprintf(frame + k, "%s[\"%.2f\",\"%.8f\"]", i ? "," : "", 97000.1 - i * 0.1, 0.01 + i * 0.137);
  k += (size_t)sprintf(frame + k, "],\"a\":[");
  for (int i = 0; i < 20; i++) k += (size_t)sprintf(frame + k, "%s[\"%.2f\",\"%.8f\"]", i ? "," : "", 97000.2 + i * 0.1, 0.02 + i * 0.091);
  k += (size_t)sprintf(frame + k, "]}");
  frame_len = k;
}

/* decimal string at p (up to closing quote) -> integer scaled by 1e8 */
static inline int64_t scaled(const char **pp) {
  const char *p = *pp;
  int64_t v = 0;
  int frac = -1;
  for (; *p != '"'; p++) {
    if (*p == '.') { frac = 0; continue; }
    v = v * 10 + (*p - '0');
    if (frac >= 0) frac++;
  }
  if (frac < 0) frac = 0;
  for (; frac < 8; frac++) v *= 10;
  *pp = p + 1;
  return v;
}

typedef struct { int64_t px[64], qty[64]; int n; } side_t;

/* scan levels of an array starting at '[' of the outer array */
static const char *scan_side(const char *p, side_t *s) {
  s->n = 0;
  p++; /* outer [ */
  while (*p == '[') {
    p += 2; /* [" */
    s->px[s->n] = scaled(&p);
    p += 2; /* ," */
    s->qty[s->n] = scaled(&p);
    s->n++;
    p++; /* ] */
    if (*p == ',') p++;
  }
  return p + 1;
}

static int64_t scan(const char *f, uint64_t *U, uint64_t *u, side_t *b, side_t *a) {
  const char *p = strstr(f, "\"U\":") + 4;
  uint64_t x = 0;
  while (*p >= '0' && *p <= '9') x = x * 10 + (uint64_t)(*p++ - '0');
  *U = x;
  p += 5; /* ,"u": */
  x = 0;
  while (*p >= '0' && *p <= '9') x = x * 10 + (uint64_t)(*p++ - '0');
  *u = x;
  p += 5; /* ,"b": */
  p = scan_side(p, b);
  p += 5; /* ,"a": */
  p = scan_side(p, a);
  return b->px[0] + a->qty[a->n - 1];
}

int main(void) {
  build_frame();
  side_t b, a;
  uint64_t U, u;
  volatile int64_t sink = 0;
  double ns = BEST_NS_PER_OP(5, 200000, { sink += scan(frame, &U, &u, &b, &a); });
  printf("%-44s %8.0f ns/op   (%zu B, %d+%d levels, u-U=%llu, checksum %lld)\n", "C depth-diff scan to scaled ints", ns, frame_len, b.n, a.n,
         (unsigned long long)(u - U), (long long)sink % 1000);
  return 0;
}
