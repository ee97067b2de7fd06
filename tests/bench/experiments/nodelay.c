/* LD_PRELOAD shim for the "what if Loopgate set TCP_NODELAY" experiment (see RESULTS.md):
 * every socket returned by accept()/accept4() gets TCP_NODELAY, nothing else changes.
 * Build: gcc -shared -fPIC -O2 -o nodelay.so nodelay.c -ldl
 * Use:   BENCH_GATEWAY_LD_PRELOAD=$PWD/nodelay.so cargo bench --bench gateway -- latency */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd) {
    if (fd >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on non-TCP */
    }
}

int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    if (!real) real = dlsym(RTLD_NEXT, "accept4");
    int c = real(fd, addr, len, flags);
    nodelay(c);
    return c;
}

int accept(int fd, struct sockaddr *addr, socklen_t *len) {
    static int (*real)(int, struct sockaddr *, socklen_t *);
    if (!real) real = dlsym(RTLD_NEXT, "accept");
    int c = real(fd, addr, len);
    nodelay(c);
    return c;
}
