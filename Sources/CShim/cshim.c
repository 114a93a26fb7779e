#define _GNU_SOURCE
#include "cshim.h"
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <fcntl.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/time.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <malloc.h>

const uint32_t CSHIM_EPOLLIN = EPOLLIN, CSHIM_EPOLLOUT = EPOLLOUT, CSHIM_EPOLLERR = EPOLLERR,
               CSHIM_EPOLLHUP = EPOLLHUP, CSHIM_EPOLLRDHUP = EPOLLRDHUP;

int cshim_epoll_create(void) { return epoll_create1(EPOLL_CLOEXEC); }

static int ctl(int epfd, int op, int fd, uint32_t events, uint64_t data) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = events;
    ev.data.u64 = data;
    return epoll_ctl(epfd, op, fd, &ev);
}
int cshim_epoll_add(int epfd, int fd, uint32_t events, uint64_t data) { return ctl(epfd, EPOLL_CTL_ADD, fd, events, data); }
int cshim_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data) { return ctl(epfd, EPOLL_CTL_MOD, fd, events, data); }
int cshim_epoll_del(int epfd, int fd) { return ctl(epfd, EPOLL_CTL_DEL, fd, 0, 0); }

int cshim_epoll_wait(int epfd, uint64_t *datas, uint32_t *masks, int max, int timeout_ms) {
    struct epoll_event evs[256];
    if (max > 256) max = 256;
    int n = epoll_wait(epfd, evs, max, timeout_ms);
    for (int i = 0; i < n; i++) { datas[i] = evs[i].data.u64; masks[i] = evs[i].events; }
    return n < 0 ? -errno : n;
}

int cshim_eventfd(void) { return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }
int cshim_eventfd_signal(int fd) { uint64_t one = 1; return (int)write(fd, &one, sizeof one); }
int cshim_eventfd_drain(int fd) { uint64_t v; return (int)read(fd, &v, sizeof v); }

static int resolve(const char *host, int port, struct sockaddr_storage *out, socklen_t *len) {
    struct addrinfo hints, *res = 0;
    char portstr[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || !res) return -EHOSTUNREACH;
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

// A non-blocking TCP socket of the right family for host:port, whose address goes to addr/len.
static int tcp_socket(const char *host, int port, struct sockaddr_storage *addr, socklen_t *len) {
    int rc = resolve(host, port, addr, len);
    if (rc) return rc;
    int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    return fd < 0 ? -errno : fd;
}

int cshim_listen_tcp(const char *host, int port, int backlog, int reuseport) {
    struct sockaddr_storage addr; socklen_t len;
    int fd = tcp_socket(host, port, &addr, &len);
    if (fd < 0) return fd;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, len) < 0 || listen(fd, backlog) < 0) {
        int e = errno; close(fd); return -e;
    }
    return fd;
}

static int unix_address(const char *path, struct sockaddr_un *addr) {
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr->sun_path) return -ENAMETOOLONG;
    strcpy(addr->sun_path, path);
    return 0;
}

int cshim_listen_unix(const char *path, int backlog) {
    struct sockaddr_un addr;
    if (unix_address(path, &addr) < 0) return -ENAMETOOLONG;
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 || chmod(path, 0666) < 0 || listen(fd, backlog) < 0) {
        int e = errno; close(fd); return -e;
    }
    return fd;
}

/* flags: 0 (blocking) or SOCK_NONBLOCK. A local connect completes or fails at once either way
   (EAGAIN when non-blocking: the listener's backlog is full). */
static int unix_connect(const char *path, int flags) {
    struct sockaddr_un addr;
    if (unix_address(path, &addr) < 0) return -ENAMETOOLONG;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) { int e = errno; close(fd); return -e; }
    return fd;
}

int cshim_connect_unix(const char *path) { return unix_connect(path, 0); }

int cshim_accept(int lfd, char *addr, int addrlen) {
    struct sockaddr_storage sa; socklen_t sl = sizeof sa;
    int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return -errno;
    if (addr && addrlen > 0) {
        addr[0] = 0;
        if (sa.ss_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, addr, addrlen);
        else if (sa.ss_family == AF_INET6) inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, addr, addrlen);
        else if (sa.ss_family == AF_UNIX) snprintf(addr, addrlen, "unix");
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* A host that is a path ("/…") is a Unix-domain socket: cshim_connect_tcp and cshim_connect_start
   then connect there (port unused). */
int cshim_connect_tcp(const char *host, int port, int timeout_ms) {
    if (host[0] == '/') return cshim_connect_unix(host);
    struct sockaddr_storage addr; socklen_t len;
    int fd = tcp_socket(host, port, &addr, &len);
    if (fd < 0) return fd;
    if (connect(fd, (struct sockaddr *)&addr, len) < 0) {
        if (errno != EINPROGRESS) { int e = errno; close(fd); return -e; }
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int n = poll(&p, 1, timeout_ms);
        if (n <= 0) { close(fd); return n == 0 ? -ETIMEDOUT : -errno; }
        int err = 0; socklen_t el = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) { close(fd); return -err; }
    }
    cshim_set_nonblocking(fd, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

int cshim_connect_start(const char *host, int port) {
    if (host[0] == '/') return unix_connect(host, SOCK_NONBLOCK);
    struct sockaddr_storage addr; socklen_t len;
    int fd = tcp_socket(host, port, &addr, &len);
    if (fd < 0) return fd;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&addr, len) < 0 && errno != EINPROGRESS) { int e = errno; close(fd); return -e; }
    return fd;
}

int cshim_socket_error(int fd) {
    int err = 0; socklen_t el = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0) return errno;
    return err;
}

int cshim_peer_open(int fd) {
    char b;
    ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

int cshim_set_timeouts(int fd, int recv_ms, int send_ms) {
    struct timeval r = { recv_ms / 1000, (recv_ms % 1000) * 1000 }, s = { send_ms / 1000, (send_ms % 1000) * 1000 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &r, sizeof r) < 0) return -errno;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &s, sizeof s) < 0) return -errno;
    return 0;
}

int cshim_set_nonblocking(int fd, int on) {
    int fl = fcntl(fd, F_GETFL, 0);
    if (fl < 0) return -errno;
    fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
    return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

int cshim_local_port(int fd) {
    struct sockaddr_storage a; socklen_t l = sizeof a;
    if (getsockname(fd, (struct sockaddr *)&a, &l) < 0) return -errno;
    if (a.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&a)->sin_port);
    return ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
}

void cshim_ignore_sigpipe(void) { signal(SIGPIPE, SIG_IGN); }

uint64_t cshim_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int64_t cshim_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cshim_http_date(char *out, int len) {
    time_t t = time(0);
    struct tm tm;
    gmtime_r(&t, &tm);
    return (int)strftime(out, len, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
}

/* PBKDF2-HMAC-SHA256 with the HMAC key schedule computed once: each iteration copies the
 * precomputed inner/outer SHA-256 states instead of re-keying HMAC through OpenSSL 3's
 * provider layer, which halves the cost of a password hash with identical output. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
int cshim_pbkdf2_sha256(const uint8_t *pw, size_t pwlen, const uint8_t *salt, size_t saltlen,
                        uint32_t iterations, uint8_t *out, size_t outlen) {
    if (iterations < 1) return -1;
    uint8_t key[64] = {0}, ipad[64], opad[64];
    if (pwlen > 64) SHA256(pw, pwlen, key); else if (pwlen) memcpy(key, pw, pwlen);
    for (int i = 0; i < 64; i++) { ipad[i] = key[i] ^ 0x36; opad[i] = key[i] ^ 0x5c; }
    SHA256_CTX ictx, octx, c;
    SHA256_Init(&ictx); SHA256_Update(&ictx, ipad, 64);
    SHA256_Init(&octx); SHA256_Update(&octx, opad, 64);
    for (uint32_t block = 1; outlen > 0; block++) {
        uint8_t u[32], t[32], be[4] = { block >> 24, block >> 16, block >> 8, block };
        c = ictx; SHA256_Update(&c, salt, saltlen); SHA256_Update(&c, be, 4); SHA256_Final(u, &c);
        c = octx; SHA256_Update(&c, u, 32); SHA256_Final(u, &c);
        memcpy(t, u, 32);
        for (uint32_t k = 1; k < iterations; k++) {
            c = ictx; SHA256_Update(&c, u, 32); SHA256_Final(u, &c);
            c = octx; SHA256_Update(&c, u, 32); SHA256_Final(u, &c);
            for (int j = 0; j < 32; j++) t[j] ^= u[j];
        }
        size_t n = outlen < 32 ? outlen : 32;
        memcpy(out, t, n);
        out += n; outlen -= n;
    }
    return 0;
}

/* HMAC-SHA256 on the low-level SHA-256 calls: OpenSSL 3's one-shot HMAC() fetches the algorithm
 * through the provider layer on every call, which costs more than hashing a token or a proof. */
void cshim_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *data, size_t datalen, uint8_t *out) {
    uint8_t k[64] = {0}, pad[64], inner[32];
    if (keylen > 64) SHA256(key, keylen, k); else if (keylen) memcpy(k, key, keylen);
    SHA256_CTX c;
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x36;
    SHA256_Init(&c); SHA256_Update(&c, pad, 64); SHA256_Update(&c, data, datalen); SHA256_Final(inner, &c);
    for (int i = 0; i < 64; i++) pad[i] = k[i] ^ 0x5c;
    SHA256_Init(&c); SHA256_Update(&c, pad, 64); SHA256_Update(&c, inner, 32); SHA256_Final(out, &c);
}

void cshim_set_thread_name(const char *name) {
    char buf[16];
    strncpy(buf, name, sizeof buf - 1);
    buf[sizeof buf - 1] = 0;
    pthread_setname_np(pthread_self(), buf);
}

void cshim_limit_malloc_arenas(int arenas) {
    if (arenas > 0 && getenv("MALLOC_ARENA_MAX") == NULL) mallopt(M_ARENA_MAX, arenas);
}

void cshim_malloc_trim(void) { malloc_trim(0); }

int cshim_active_cpus(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    int n = CPU_COUNT(&set);
    return n > 0 ? n : 1;
}
