// The API server benchmark's watchers in C (see native-clients.ts for why): COUNT watch requests over
// TLS with a client certificate, spread over THREADS threads that each wait on their connections
// with epoll. Prints "ready" once every watch has its response headers; on a line "report" on stdin
// it stops and prints "<pod name> <arrival ms>" for each ADDED event of a pod named PREFIX*, where
// the arrival is CLOCK_MONOTONIC (the clock of Node's process.hrtime), then "end". With a tenth
// argument "batch" the threads do not wait on their sockets but sleep 20 ms between draining them,
// so that writes to the sockets never wake a reader (for bench/tls-fanout.ts).
#define _GNU_SOURCE
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct { SSL *ssl; int fd; int headers; char buf[65536]; size_t len; } conn_t;
typedef struct { char name[64]; double at; } seen_t;
typedef struct { int epfd; int count; conn_t *conns; seen_t *seen; size_t nseen, cap; } thread_t;

/** `"name":"PREFIX`, what an event line of interest contains. */
static char g_needle[128];
static volatile int g_stop;
static int g_batch;

static double now_ms(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6; }

static void scan(thread_t *t, conn_t *c, double at) {
  size_t nl = strlen(g_needle);
  char *start = c->buf, *end = c->buf + c->len;
  if (c->headers) {
    char *h = memmem(start, c->len, "\r\n\r\n", 4);
    if (!h) return;
    c->headers = 0; start = h + 4;
  }
  for (;;) {
    char *nlpos = memchr(start, '\n', end - start);
    if (!nlpos) break;
    char *add = memmem(start, nlpos - start, "{\"type\":\"ADDED\"", 15);
    if (add) {
      char *n = memmem(start, nlpos - start, g_needle, nl);
      if (n) {
        n += 8; char *q = memchr(n, '"', nlpos - n);
        if (q && q - n < 63) {
          if (t->nseen == t->cap) { t->cap = t->cap ? t->cap * 2 : 4096; t->seen = realloc(t->seen, t->cap * sizeof(seen_t)); }
          memcpy(t->seen[t->nseen].name, n, q - n); t->seen[t->nseen].name[q - n] = 0; t->seen[t->nseen].at = at; t->nseen++;
        }
      }
    }
    start = nlpos + 1;
  }
  c->len = end - start; memmove(c->buf, start, c->len);
}

static void *run(void *arg) {
  thread_t *t = arg; struct epoll_event evs[64];
  while (!g_stop) {
    int n = epoll_wait(t->epfd, evs, 64, g_batch ? 0 : 100);
    if (g_batch && n < 64) usleep(20000);
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr; double at = now_ms();
      for (;;) {
        // A line longer than the buffer is not an event of ours: drop it.
        if (c->len == sizeof c->buf) c->len = 0;
        int r = SSL_read(c->ssl, c->buf + c->len, sizeof c->buf - c->len);
        if (r > 0) { c->len += r; scan(t, c, at); continue; }
        if (SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_READ) {
          // The server ended this watch: stop polling it (its events are missing from the report).
          epoll_ctl(t->epfd, EPOLL_CTL_DEL, c->fd, NULL);
          fprintf(stderr, "a watch connection ended early\n");
        }
        break;
      }
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 10) { fprintf(stderr, "usage: watch-reader HOST PORT CA CERT KEY PATH COUNT THREADS PREFIX [batch]\n"); return 2; }
  const char *host = argv[1]; int port = atoi(argv[2]); const char *path = argv[6];
  int count = atoi(argv[7]), threads = atoi(argv[8]);
  snprintf(g_needle, sizeof g_needle, "\"name\":\"%s", argv[9]);
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1 || SSL_CTX_use_certificate_chain_file(ctx, argv[4]) != 1 || SSL_CTX_use_PrivateKey_file(ctx, argv[5], SSL_FILETYPE_PEM) != 1) { ERR_print_errors_fp(stderr); return 1; }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  thread_t *ts = calloc(threads, sizeof *ts);
  for (int i = 0; i < threads; i++) { ts[i].epfd = epoll_create1(0); ts[i].conns = calloc(count / threads + 1, sizeof(conn_t)); }
  char req[4096]; int reqlen = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\nAccept: application/json\r\n\r\n", path);
  for (int i = 0; i < count; i++) {
    thread_t *t = &ts[i % threads]; conn_t *c = &t->conns[t->count++];
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) }; inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
    int one = 1; setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->ssl = SSL_new(ctx); SSL_set_fd(c->ssl, c->fd); SSL_set_tlsext_host_name(c->ssl, "localhost"); SSL_set1_host(c->ssl, "localhost");
    if (SSL_connect(c->ssl) != 1) { ERR_print_errors_fp(stderr); return 1; }
    SSL_write(c->ssl, req, reqlen);
    // Wait for the response headers before going non-blocking.
    c->headers = 1;
    while (c->headers) { int r = SSL_read(c->ssl, c->buf + c->len, sizeof c->buf - c->len - 1); if (r <= 0) { fprintf(stderr, "watch failed\n"); return 1; } c->len += r; scan(t, c, now_ms()); }
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c }; epoll_ctl(t->epfd, EPOLL_CTL_ADD, c->fd, &ev);
  }
  g_batch = argc > 10 && strcmp(argv[10], "batch") == 0;
  pthread_t *th = calloc(threads, sizeof *th);
  for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, run, &ts[i]);
  printf("ready\n"); fflush(stdout);
  char line[64]; while (fgets(line, sizeof line, stdin) && strncmp(line, "report", 6) != 0) {}
  g_stop = 1;
  for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < threads; i++) for (size_t j = 0; j < ts[i].nseen; j++) printf("%s %.4f\n", ts[i].seen[j].name, ts[i].seen[j].at);
  printf("end\n");
  return 0;
}
