/*
 * Loopback TCP ping-pong, the kernel floor of one round trip on this machine.
 * A child process echoes; the parent sends MSG bytes, waits for them back, N times, and reports the round-trip
 * percentiles. With --ws the payload travels in WebSocket frames (client frames masked, as RFC 6455 requires,
 * the server unmasks and answers unmasked): the framing cost on top of the raw round trip.
 * Pin with taskset to compare one vCPU vs two (see run.sh).
 *   usage: pingpong [--n N] [--size BYTES] [--ws] [--cpus CLIENT,SERVER]
 * --cpus pins the client (parent) and the echo server (child) to the given CPUs after the fork.
 */
#include "common.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *m) { perror(m); exit(1); }

static void pin(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) < 0) perror("sched_setaffinity");
}

static void read_full(int fd, unsigned char *b, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, b + got, n - got);
    if (r <= 0) { if (r == 0) exit(0); die("read"); }
    got += (size_t)r;
  }
}
static void write_full(int fd, const unsigned char *b, size_t n) {
  size_t put = 0;
  while (put < n) {
    ssize_t w = write(fd, b + put, n - put);
    if (w <= 0) die("write");
    put += (size_t)w;
  }
}

/* Frame header for payload length len (< 65536), optional 4-byte mask. Returns header length. */
static size_t ws_header(unsigned char *h, size_t len, const unsigned char *mask) {
  size_t k = 0;
  h[k++] = 0x82; /* FIN + binary */
  if (len < 126) h[k++] = (unsigned char)((mask ? 0x80 : 0) | len);
  else { h[k++] = (unsigned char)((mask ? 0x80 : 0) | 126); h[k++] = (unsigned char)(len >> 8); h[k++] = (unsigned char)len; }
  if (mask) { memcpy(h + k, mask, 4); k += 4; }
  return k;
}

/* Read one WebSocket frame into payload; unmask if masked. Returns payload length. */
static size_t ws_read(int fd, unsigned char *payload) {
  unsigned char h[14];
  read_full(fd, h, 2);
  size_t len = h[1] & 0x7f;
  int masked = h[1] & 0x80;
  if (len == 126) { read_full(fd, h + 2, 2); len = ((size_t)h[2] << 8) | h[3]; }
  unsigned char mask[4] = {0};
  if (masked) read_full(fd, mask, 4);
  read_full(fd, payload, len);
  if (masked) for (size_t i = 0; i < len; i++) payload[i] ^= mask[i & 3];
  return len;
}

int main(int argc, char **argv) {
  long n = 100000;
  size_t size = 150;
  int ws = 0;
  int cpu_client = -1, cpu_server = -1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--n") && i + 1 < argc) n = atol(argv[++i]);
    else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = (size_t)atol(argv[++i]);
    else if (!strcmp(argv[i], "--ws")) ws = 1;
    else if (!strcmp(argv[i], "--cpus") && i + 1 < argc) sscanf(argv[++i], "%d,%d", &cpu_client, &cpu_server);
  }
  if (size < 1 || size > 60000) size = 150;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  if (ls < 0) die("socket");
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (bind(ls, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  if (listen(ls, 1) < 0) die("listen");
  socklen_t al = sizeof a;
  getsockname(ls, (struct sockaddr *)&a, &al);
  int one = 1;
  pid_t child = fork();
  if (child == 0) {
    pin(cpu_server);
    int c = accept(ls, NULL, NULL);
    if (c < 0) die("accept");
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    unsigned char buf[65600];
    unsigned char out[65600];
    for (;;) {
      if (ws) {
        size_t len = ws_read(c, buf);
        size_t k = ws_header(out, len, NULL);
        memcpy(out + k, buf, len);
        write_full(c, out, k + len);
      } else {
        read_full(c, buf, size);
        write_full(c, buf, size);
      }
    }
  }
  pin(cpu_client);
  close(ls);
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  unsigned char msg[65600], back[65600], frame[65600];
  for (size_t i = 0; i < size; i++) msg[i] = (unsigned char)('a' + i % 26);
  unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
  long warm = n / 10 < 1000 ? 1000 : n / 10;
  uint64_t *v = malloc(sizeof(uint64_t) * (size_t)n);
  for (long i = -warm; i < n; i++) {
    uint64_t t0 = now_ns();
    if (ws) {
      size_t k = ws_header(frame, size, mask);
      for (size_t j = 0; j < size; j++) frame[k + j] = msg[j] ^ mask[j & 3];
      write_full(s, frame, k + size);
      size_t len = ws_read(s, back);
      if (len != size || memcmp(back, msg, size)) { fprintf(stderr, "echo mismatch\n"); return 1; }
    } else {
      write_full(s, msg, size);
      read_full(s, back, size);
    }
    uint64_t t1 = now_ns();
    if (i >= 0) v[i] = t1 - t0;
  }
  char name[96];
  if (cpu_client >= 0) snprintf(name, sizeof name, "C tcp ping-pong %s %zuB cpu %d<->%d", ws ? "ws-framed" : "raw", size, cpu_client, cpu_server);
  else snprintf(name, sizeof name, "C tcp ping-pong %s %zuB", ws ? "ws-framed" : "raw", size);
  report_us(name, v, (size_t)n);
  close(s);
  kill(child, SIGTERM);
  waitpid(child, NULL, 0);
  return 0;
}
