// The floor for `bench -- loadbalancer --floor`: the least a user-space TCP proxy can do per
// request and per byte on this machine, in C. One thread, epoll, one backend; per connection it
// moves each direction either with recv/send through a buffer (mode "copy", what any Node proxy
// does underneath) or with splice() through a pipe (mode "splice", no copy into user space, which
// Node cannot do). Usage: lb-floor-proxy LISTEN_IP BACKEND_PORT copy|splice; prints its port.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* One direction of a connection: bytes read from fd go to peer. */
typedef struct dir {
  int fd, peer;
  int pipe_r, pipe_w;
  struct dir *other;
  int done;
} dir;

static char buf[256 * 1024];

static void finish(int ep, dir *d) {
  epoll_ctl(ep, EPOLL_CTL_DEL, d->fd, NULL);
  shutdown(d->peer, SHUT_WR);
  d->done = 1;
  if (!d->other->done) return;
  close(d->fd); close(d->peer);
  close(d->pipe_r); close(d->pipe_w); close(d->other->pipe_r); close(d->other->pipe_w);
  free(d->other); free(d);
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: lb-floor-proxy IP BACKEND_PORT copy|splice\n"); return 2; }
  int use_splice = strcmp(argv[3], "splice") == 0, one = 1;
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = { .sin_family = AF_INET };
  inet_pton(AF_INET, argv[1], &a.sin_addr);
  if (bind(ls, (void *)&a, sizeof a) || listen(ls, 128)) { perror("listen"); return 1; }
  socklen_t al = sizeof a;
  getsockname(ls, (void *)&a, &al);
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
  inet_pton(AF_INET, "127.0.0.1", &b.sin_addr);
  int ep = epoll_create1(0);
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
  epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
  struct epoll_event evs[64];
  for (;;) {
    int n = epoll_wait(ep, evs, 64, -1);
    for (int i = 0; i < n; i++) {
      dir *d = evs[i].data.ptr;
      if (!d) {
        int c = accept(ls, NULL, NULL);
        if (c < 0) continue;
        int u = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(u, (void *)&b, sizeof b) < 0) { close(c); close(u); continue; }
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        dir *x = calloc(1, sizeof *x), *y = calloc(1, sizeof *y);
        int p1[2] = { -1, -1 }, p2[2] = { -1, -1 };
        if (use_splice) {
          if (pipe(p1) || pipe(p2)) { perror("pipe"); return 1; }
          fcntl(p1[1], F_SETPIPE_SZ, 1 << 20);
          fcntl(p2[1], F_SETPIPE_SZ, 1 << 20);
        }
        *x = (dir){ c, u, p1[0], p1[1], y, 0 };
        *y = (dir){ u, c, p2[0], p2[1], x, 0 };
        struct epoll_event e1 = { .events = EPOLLIN, .data.ptr = x }, e2 = { .events = EPOLLIN, .data.ptr = y };
        epoll_ctl(ep, EPOLL_CTL_ADD, c, &e1);
        epoll_ctl(ep, EPOLL_CTL_ADD, u, &e2);
        continue;
      }
      ssize_t r, w = 0;
      if (use_splice) {
        r = splice(d->fd, NULL, d->pipe_w, NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        if (r < 0 && errno == EAGAIN) continue;
        if (r <= 0) { finish(ep, d); continue; }
        for (ssize_t o = 0; o < r; o += w) if ((w = splice(d->pipe_r, NULL, d->peer, NULL, r - o, SPLICE_F_MOVE)) <= 0) break;
      } else {
        r = recv(d->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r < 0 && errno == EAGAIN) continue;
        if (r <= 0) { finish(ep, d); continue; }
        for (ssize_t o = 0; o < r; o += w) if ((w = send(d->peer, buf + o, r - o, MSG_NOSIGNAL)) <= 0) break;
      }
      if (w <= 0) finish(ep, d);
    }
  }
}
