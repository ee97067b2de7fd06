// Counts a process's heap allocations by size (glibc only): an LD_PRELOAD shim for finding
// what a relayed call allocates. Wraps malloc, calloc, realloc and posix_memalign/aligned_alloc
// around glibc's own entry points, counts each request in a power-of-two bucket, and writes
// the counts to $ALLOCSIZES_OUT when the process exits (Loopgate exits normally on SIGTERM).
// Requests above 1,032 bytes miss glibc's per-thread cache (tcache) and take its slower path.
//
//   gcc -shared -fPIC -O2 -o /tmp/allocsizes.so tests/bench/experiments/allocsizes.c
//   ALLOCSIZES_OUT=/tmp/sizes.txt LD_PRELOAD=/tmp/allocsizes.so loopgate serve ...
//
// Used for run N (tests/bench/RESULTS.md) with session-wrk.sh (GATEWAY_PRELOAD).
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

#define BUCKETS 32
static unsigned long counts[BUCKETS];
static unsigned long over_tcache;

static void count(size_t size) {
    int b = 0;
    while (b < BUCKETS - 1 && ((size_t)1 << b) < size) b++;
    __atomic_fetch_add(&counts[b], 1, __ATOMIC_RELAXED);
    if (size > 1032) __atomic_fetch_add(&over_tcache, 1, __ATOMIC_RELAXED);
}

void *malloc(size_t size) { count(size); return __libc_malloc(size); }
void *calloc(size_t n, size_t size) { count(n * size); return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { count(size); return __libc_realloc(p, size); }
void *aligned_alloc(size_t align, size_t size) { count(size); return __libc_memalign(align, size); }
int posix_memalign(void **out, size_t align, size_t size) {
    count(size);
    void *p = __libc_memalign(align, size);
    if (!p) return 12; // ENOMEM
    *out = p;
    return 0;
}

__attribute__((destructor)) static void report(void) {
    const char *path = getenv("ALLOCSIZES_OUT");
    if (!path) return;
    FILE *f = fopen(path, "w");
    if (!f) return;
    for (int b = 0; b < BUCKETS; b++)
        if (counts[b]) fprintf(f, "<=%zu %lu\n", (size_t)1 << b, counts[b]);
    fprintf(f, "over_tcache %lu\n", over_tcache);
    fclose(f);
}
