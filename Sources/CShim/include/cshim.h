#ifndef CSHIM_H
#define CSHIM_H
#include <stdint.h>
#include <stddef.h>

// epoll_event is packed on x86_64; these wrappers keep Swift away from its layout.
int cshim_epoll_create(void);
int cshim_epoll_add(int epfd, int fd, uint32_t events, uint64_t data);
int cshim_epoll_mod(int epfd, int fd, uint32_t events, uint64_t data);
int cshim_epoll_del(int epfd, int fd);
// Waits for up to `max` events, writing their data words and event masks to the two arrays.
int cshim_epoll_wait(int epfd, uint64_t *datas, uint32_t *masks, int max, int timeout_ms);

int cshim_eventfd(void);
int cshim_eventfd_signal(int fd);
int cshim_eventfd_drain(int fd);

extern const uint32_t CSHIM_EPOLLIN, CSHIM_EPOLLOUT, CSHIM_EPOLLERR, CSHIM_EPOLLHUP, CSHIM_EPOLLRDHUP;

// Listening TCP socket with SO_REUSEADDR (+ SO_REUSEPORT when reuseport != 0), non-blocking.
// Returns fd or -errno.
int cshim_listen_tcp(const char *host, int port, int backlog, int reuseport);
// Listening Unix-domain stream socket at path (a stale socket file there is removed first; the
// new one is made connectable by every local user, like a loopback port), non-blocking.
// Returns fd or -errno (-ENAMETOOLONG when path does not fit sun_path).
int cshim_listen_unix(const char *path, int backlog);
// Blocking connect to a Unix-domain stream socket. fd or -errno.
int cshim_connect_unix(const char *path);
// accept4 non-blocking + TCP_NODELAY; writes the peer's address text to addr. Returns fd or -errno.
int cshim_accept(int lfd, char *addr, int addrlen);
// Blocking connect with timeout (ms); result socket is blocking with TCP_NODELAY. fd or -errno.
int cshim_connect_tcp(const char *host, int port, int timeout_ms);
// Non-blocking connect (TCP_NODELAY): fd with the connect possibly still in progress (wait for
// writability, then check cshim_socket_error), or -errno when it failed at once.
int cshim_connect_start(const char *host, int port);
// The socket's pending error (SO_ERROR), 0 when none.
int cshim_socket_error(int fd);
// 1 when an idle socket's peer has neither closed nor sent anything (reading would block).
int cshim_peer_open(int fd);
int cshim_set_timeouts(int fd, int recv_ms, int send_ms);
int cshim_set_nonblocking(int fd, int on);
// Bound port of a socket (for port 0 listeners).
int cshim_local_port(int fd);
// Ignore SIGPIPE process-wide; writes return EPIPE instead.
void cshim_ignore_sigpipe(void);
uint64_t cshim_monotonic_ns(void);
// Names the calling thread (the kernel keeps 15 bytes; longer names are cut, not refused).
void cshim_set_thread_name(const char *name);
// CPUs in the calling thread's affinity mask (what `nproc` prints); 1 if it cannot be read.
int cshim_active_cpus(void);
// mallopt(M_ARENA_MAX, arenas) unless the environment sets MALLOC_ARENA_MAX (the operator's choice).
void cshim_limit_malloc_arenas(int arenas);
/* malloc_trim(0): gives the free pages of every arena back to the kernel. */
void cshim_malloc_trim(void);
int64_t cshim_wall_ms(void);
// Writes "Date: <IMF-fixdate>\r\n" for now; returns its length.
int cshim_http_date(char *out, int len);
// PBKDF2-HMAC-SHA256 (RFC 8018) into out[outlen]; 0 on success.
int cshim_pbkdf2_sha256(const uint8_t *pw, size_t pwlen, const uint8_t *salt, size_t saltlen,
                        uint32_t iterations, uint8_t *out, size_t outlen);
// HMAC-SHA256 into out[32].
void cshim_hmac_sha256(const uint8_t *key, size_t keylen, const uint8_t *data, size_t datalen, uint8_t *out);
#endif
