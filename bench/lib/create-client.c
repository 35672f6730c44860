// The API server benchmark's load generator in C (see native-clients.ts for why): CONNS keep-alive
// TLS connections with a client certificate, each sending one POST at a time, TOTAL requests in all.
// Request i's body is TEMPLATE with every "{NAME}" replaced by PREFIX-i, and every "{MOD}" by i
// modulo $CREATE_CLIENT_MOD (default 1; the console bench binds pod i to node i % nodes). One
// thread, epoll.
// Prints "<seconds> <requests> <failures>" and, if any failed, the first failure's status line.
#define _GNU_SOURCE
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  SSL *ssl;
  int fd;
  char out[16384];
  size_t outLen, outOff;
  char in[65536];
  size_t inLen;
} conn_t;

static const char *g_path, *g_template, *g_prefix;
static char g_auth[4096]; /* "Authorization: Bearer ...\r\n" when a token is given, else empty */
static int g_total, g_next, g_done, g_failures, g_mod = 1;
static char g_firstFailure[256];

static double now_s(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }

/** Queue request number g_next on c (returns 0 when all are sent). */
static int prepare(conn_t *c) {
  if (g_next >= g_total) return 0;
  char name[128], body[8192];
  int i = g_next++;
  snprintf(name, sizeof name, "%s-%d", g_prefix, i);
  size_t n = 0;
  for (const char *t = g_template; *t && n < sizeof body - 128;) {
    if (strncmp(t, "{NAME}", 6) == 0) { n += (size_t)snprintf(body + n, sizeof body - n, "%s", name); t += 6; }
    else if (strncmp(t, "{MOD}", 5) == 0) { n += (size_t)snprintf(body + n, sizeof body - n, "%d", i % g_mod); t += 5; }
    else body[n++] = *t++;
  }
  c->outLen = (size_t)snprintf(c->out, sizeof c->out,
    "POST %s HTTP/1.1\r\nHost: localhost\r\n%sContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: %zu\r\n\r\n%.*s",
    g_path, g_auth, n, (int)n, body);
  c->outOff = 0;
  return 1;
}

/** Write what is queued; 1 when all of it went out. */
static int flush(conn_t *c) {
  while (c->outOff < c->outLen) {
    int r = SSL_write(c->ssl, c->out + c->outOff, (int)(c->outLen - c->outOff));
    if (r <= 0) return 0;
    c->outOff += (size_t)r;
  }
  return 1;
}

/** A complete response in c->in? Consume it, count it, and return 1. */
static int take_response(conn_t *c) {
  char *end = memmem(c->in, c->inLen, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t head = (size_t)(end - c->in) + 4, len = 0;
  for (char *p = c->in; p < end; p++)
    if ((p == c->in || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) len = strtoul(p + 15, NULL, 10);
  if (c->inLen < head + len) return 0;
  int status = atoi(c->in + 9);
  if (status != 201) {
    if (!g_failures++) { char *eol = memchr(c->in, '\r', c->inLen); int l = eol ? (int)(eol - c->in) : 0; snprintf(g_firstFailure, sizeof g_firstFailure, "%.*s", l, c->in); }
  }
  g_done++;
  memmove(c->in, c->in + head + len, c->inLen - head - len);
  c->inLen -= head + len;
  return 1;
}

int main(int argc, char **argv) {
  if (argc < 11) { fprintf(stderr, "usage: create-client HOST PORT CA CERT|- KEY|- PATH CONNS TOTAL PREFIX TEMPLATE [BEARER-TOKEN]\n"); return 2; }
  if (argc > 11) snprintf(g_auth, sizeof g_auth, "Authorization: Bearer %s\r\n", argv[11]);
  int withCert = strcmp(argv[4], "-") != 0;
  const char *host = argv[1]; int port = atoi(argv[2]);
  if (getenv("CREATE_CLIENT_MOD")) g_mod = atoi(getenv("CREATE_CLIENT_MOD"));
  if (g_mod < 1) g_mod = 1;
  g_path = argv[6]; int conns = atoi(argv[7]); g_total = atoi(argv[8]); g_prefix = argv[9]; g_template = argv[10];
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (SSL_CTX_load_verify_locations(ctx, argv[3], NULL) != 1 || (withCert && (SSL_CTX_use_certificate_chain_file(ctx, argv[4]) != 1 || SSL_CTX_use_PrivateKey_file(ctx, argv[5], SSL_FILETYPE_PEM) != 1))) { ERR_print_errors_fp(stderr); return 1; }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
  int ep = epoll_create1(0);
  conn_t *cs = calloc((size_t)conns, sizeof *cs);
  for (int i = 0; i < conns; i++) {
    conn_t *c = &cs[i];
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
    int one = 1; setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->ssl = SSL_new(ctx); SSL_set_fd(c->ssl, c->fd); SSL_set_tlsext_host_name(c->ssl, "localhost"); SSL_set1_host(c->ssl, "localhost");
    if (SSL_connect(c->ssl) != 1) { ERR_print_errors_fp(stderr); return 1; }
    fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
  }
  double t0 = now_s();
  for (int i = 0; i < conns; i++) if (prepare(&cs[i])) flush(&cs[i]);
  struct epoll_event evs[64];
  while (g_done < g_total) {
    int n = epoll_wait(ep, evs, 64, 30000);
    if (n <= 0) { fprintf(stderr, "no response for 30s (%d of %d done)\n", g_done, g_total); return 1; }
    for (int i = 0; i < n; i++) {
      conn_t *c = evs[i].data.ptr;
      if (c->outOff < c->outLen) flush(c);
      for (;;) {
        int r = SSL_read(c->ssl, c->in + c->inLen, (int)(sizeof c->in - c->inLen));
        if (r <= 0) {
          if (SSL_get_error(c->ssl, r) != SSL_ERROR_WANT_READ) { fprintf(stderr, "connection lost (%d of %d done)\n", g_done, g_total); return 1; }
          break;
        }
        c->inLen += (size_t)r;
        while (take_response(c))
          if (prepare(c)) flush(c);
      }
    }
  }
  printf("%.6f %d %d\n%s\n", now_s() - t0, g_done, g_failures, g_firstFailure);
  return 0;
}
