#define _GNU_SOURCE
/* The floor: a line echo in C. Reads what is available, writes back every complete
 * line of it in one write(2), until end of input. No parsing: nothing can be cheaper. */
#include <string.h>
#include <unistd.h>
#include <errno.h>

static int write_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0) { if (errno == EINTR) continue; return -1; }
        p += w; n -= (size_t)w;
    }
    return 0;
}

int main(void) {
    static char buf[1 << 16];
    size_t have = 0;
    for (;;) {
        ssize_t r = read(0, buf + have, sizeof buf - have);
        if (r < 0) { if (errno == EINTR) continue; return 1; }
        if (r == 0) return 0;
        have += (size_t)r;
        char *last = memrchr(buf, '\n', have);
        if (!last) { if (have == sizeof buf) have = 0; continue; } /* overlong line: dropped */
        size_t complete = (size_t)(last - buf) + 1;
        if (write_all(buf, complete) < 0) return 1;
        memmove(buf, buf + complete, have - complete);
        have -= complete;
    }
}
