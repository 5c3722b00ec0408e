/* The benchmark driver: the hot loops of benchmarks/run, in C so that the driver is
 * never what is measured. Every candidate (mmcore and its baselines) is driven by the
 * same code. Prints one JSON object on stdout.
 *
 *   driver startup   RUNS LINE -- CMD...          spawn, send LINE, read the answer,
 *                                                 close stdin, wait for exit; per run
 *   driver roundtrip SETUP COUNT TEMPLATE -- CMD  one request in flight at a time
 *   driver pipeline  SETUP REQUESTS -- CMD        all requests written without waiting
 *   driver http HOST PORT CONC COUNT SECONDS METHOD PATH AUTH TEMPLATE
 *                                                 keep-alive HTTP/1.1: COUNT requests
 *                                                 per connection, or SECONDS of load
 *
 * SETUP and REQUESTS are files of JSON lines; SETUP lines are sent one at a time, each
 * awaiting its answer. In TEMPLATE every "{i}" becomes the request number. A line from
 * the child is an answer unless it starts like a notification ({"jsonrpc":"2.0","method").
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void die(const char *what) { perror(what); exit(2); }

static void write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) { if (errno == EINTR) continue; die("write"); }
        p += w; n -= (size_t)w;
    }
}

static void json_string(FILE *f, const char *s, size_t n) {
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(double *sorted, size_t n, double p) {
    if (n == 0) return 0;
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[k];
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) die(path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (fread(p, 1, (size_t)n, f) != (size_t)n) die("fread");
    p[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return p;
}

/* "{i}" -> number; returns a malloc'ed string with a trailing newline when asked. */
static size_t expand(const char *template, long i, char *out, size_t cap, int newline) {
    char num[32];
    int nl = snprintf(num, sizeof num, "%ld", i);
    size_t o = 0;
    for (const char *p = template; *p; ) {
        if (p[0] == '{' && p[1] == 'i' && p[2] == '}') {
            if (o + (size_t)nl >= cap) break;
            memcpy(out + o, num, (size_t)nl); o += (size_t)nl; p += 3;
        } else {
            if (o + 1 >= cap) break;
            out[o++] = *p++;
        }
    }
    if (newline) out[o++] = '\n';
    out[o] = 0;
    return o;
}

/* MARK: child processes */

typedef struct { pid_t pid; int in; int out; } child_t;

static child_t spawn(char **argv) {
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) die("pipe2");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    if (!getenv("DRIVER_CHILD_STDERR"))
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    child_t c;
    int rc = posix_spawnp(&c.pid, argv[0], &fa, NULL, argv, environ);
    if (rc != 0) { errno = rc; die(argv[0]); }
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]); close(out[1]);
    c.in = in[1]; c.out = out[0];
    return c;
}

typedef struct { int fd; char *buf; size_t cap, start, end; } reader_t;

static void reader_init(reader_t *r, int fd) {
    r->fd = fd; r->cap = 1 << 20; r->buf = malloc(r->cap); r->start = r->end = 0;
}

/* The next line (without '\n') or NULL at end of input. */
static char *next_line(reader_t *r, size_t *len) {
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl) {
            char *line = r->buf + r->start;
            *len = (size_t)(nl - line);
            r->start += *len + 1;
            return line;
        }
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start; r->start = 0;
        }
        if (r->end == r->cap) { r->cap *= 2; r->buf = realloc(r->buf, r->cap); }
        ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
        if (n < 0) { if (errno == EINTR) continue; die("read"); }
        if (n == 0) return NULL;
        r->end += (size_t)n;
    }
}

static const char NOTIFICATION[] = "{\"jsonrpc\":\"2.0\",\"method\"";

static int is_answer(const char *line, size_t len) {
    return !(len >= sizeof NOTIFICATION - 1 && memcmp(line, NOTIFICATION, sizeof NOTIFICATION - 1) == 0);
}

static int is_error(const char *line, size_t len) {
    return memmem(line, len, "\"error\":", 8) != NULL;
}

/* Reads until the next answer; keeps a copy of it in *sample. */
static int await_answer(reader_t *r, char **sample, size_t *sample_len) {
    size_t len;
    char *line;
    while ((line = next_line(r, &len))) {
        if (!is_answer(line, len)) continue;
        if (sample) {
            free(*sample);
            *sample = malloc(len + 1); memcpy(*sample, line, len); (*sample)[len] = 0;
            *sample_len = len;
        }
        return is_error(line, len);
    }
    fprintf(stderr, "driver: the child closed its output before answering\n");
    exit(3);
}

/* Closes stdin, reads the rest of the output, waits; returns the peak RSS in KiB. */
static long finish(child_t *c, reader_t *r, int *status) {
    close(c->in);
    size_t len;
    while (next_line(r, &len)) {}
    close(c->out);
    struct rusage usage;
    while (wait4(c->pid, status, 0, &usage) < 0) { if (errno != EINTR) die("wait4"); }
    return usage.ru_maxrss;
}

/* Sends each line of the file and awaits its answer; prints them as "setup": [...]. */
static void run_setup(const char *path, child_t *c, reader_t *r) {
    size_t n;
    char *text = read_file(path, &n);
    printf("\"setup\":[");
    int first = 1;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!*line) continue;
        write_all(c->in, line, strlen(line));
        write_all(c->in, "\n", 1);
        char *answer = NULL; size_t alen = 0;
        await_answer(r, &answer, &alen);
        if (!first) printf(",");
        json_string(stdout, answer, alen);
        first = 0;
        free(answer);
    }
    printf("],");
    free(text);
}

static int mode_startup(int argc, char **argv) {
    if (argc < 5 || strcmp(argv[3], "--")) return -1;
    int runs = atoi(argv[1]);
    const char *line = argv[2];
    char **cmd = argv + 4;
    size_t ll = strlen(line);
    char *msg = malloc(ll + 2); memcpy(msg, line, ll); msg[ll] = '\n'; msg[ll + 1] = 0;
    printf("{\"seconds\":[");
    char *sample = NULL; size_t slen = 0;
    int errors = 0, bad_exit = 0;
    for (int i = 0; i < runs; i++) {
        double t0 = now();
        child_t c = spawn(cmd);
        reader_t r; reader_init(&r, c.out);
        write_all(c.in, msg, ll + 1);
        errors += await_answer(&r, &sample, &slen);
        int status;
        finish(&c, &r, &status);
        double t1 = now();
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) bad_exit++;
        free(r.buf);
        printf("%s%.9f", i ? "," : "", t1 - t0);
    }
    printf("],\"errors\":%d,\"bad_exits\":%d,\"sample\":", errors, bad_exit);
    json_string(stdout, sample ? sample : "", slen);
    printf("}\n");
    return 0;
}

static int mode_roundtrip(int argc, char **argv) {
    if (argc < 6 || strcmp(argv[4], "--")) return -1;
    const char *setup = argv[1];
    long count = atol(argv[2]);
    const char *template = argv[3];
    child_t c = spawn(argv + 5);
    reader_t r; reader_init(&r, c.out);
    printf("{");
    run_setup(setup, &c, &r);
    double *lat = malloc(sizeof(double) * (size_t)(count > 0 ? count : 1));
    char line[65536];
    char *sample = NULL; size_t slen = 0;
    long errors = 0;
    double start = now();
    for (long i = 0; i < count; i++) {
        size_t n = expand(template, i + 1, line, sizeof line - 1, 1);
        double t0 = now();
        write_all(c.in, line, n);
        errors += await_answer(&r, i == count - 1 ? &sample : NULL, &slen);
        lat[i] = now() - t0;
    }
    double total = now() - start;
    int status;
    long rss = finish(&c, &r, &status);
    qsort(lat, (size_t)count, sizeof(double), cmp_double);
    printf("\"count\":%ld,\"seconds\":%.9f,\"p50\":%.9f,\"p99\":%.9f,\"max\":%.9f,\"errors\":%ld,"
           "\"maxrss_kb\":%ld,\"exit\":%d,\"sample\":",
           count, total, percentile(lat, (size_t)count, 0.5), percentile(lat, (size_t)count, 0.99),
           count ? lat[count - 1] : 0.0, errors, rss, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    json_string(stdout, sample ? sample : "", slen);
    printf("}\n");
    return 0;
}

typedef struct { int fd; const char *data; size_t len; } writer_arg;

static void *writer_thread(void *p) {
    writer_arg *w = p;
    size_t off = 0;
    while (off < w->len) {
        size_t chunk = w->len - off < 65536 ? w->len - off : 65536;
        write_all(w->fd, w->data + off, chunk);
        off += chunk;
    }
    return NULL;
}

static int mode_pipeline(int argc, char **argv) {
    if (argc < 5 || strcmp(argv[3], "--")) return -1;
    /* Spawned before the requests are loaded: the child's peak RSS (wait4) can include
     * what it shared with this process until its exec. */
    child_t c = spawn(argv + 4);
    size_t len;
    char *requests = read_file(argv[2], &len);
    long expected = 0;
    for (size_t i = 0; i < len; i++) expected += requests[i] == '\n';
    reader_t r; reader_init(&r, c.out);
    printf("{");
    run_setup(argv[1], &c, &r);
    writer_arg w = { c.in, requests, len };
    pthread_t t;
    double t0 = now();
    pthread_create(&t, NULL, writer_thread, &w);
    long answers = 0, errors = 0;
    char *sample = NULL; size_t slen = 0;
    while (answers < expected) {
        errors += await_answer(&r, answers == expected - 1 ? &sample : NULL, &slen);
        answers++;
    }
    double seconds = now() - t0;
    pthread_join(t, NULL);
    int status;
    long rss = finish(&c, &r, &status);
    printf("\"count\":%ld,\"seconds\":%.9f,\"per_second\":%.1f,\"errors\":%ld,\"maxrss_kb\":%ld,\"exit\":%d,\"sample\":",
           expected, seconds, (double)expected / seconds, errors, rss,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    json_string(stdout, sample ? sample : "", slen);
    printf("}\n");
    return 0;
}

/* MARK: HTTP */

typedef struct {
    const char *host; int port; long count; double seconds;
    const char *method, *path, *auth, *template;
    volatile int *stop;
    int index;
    /* results */
    long done, non2xx;
    double *lat;
    char sample[512]; size_t sample_len;
} http_arg;

static int http_connect(const char *host, int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void fill(reader_t *r) {
    if (r->start > 0 && r->start == r->end) r->start = r->end = 0;
    if (r->end == r->cap) {
        if (r->start > 0) { memmove(r->buf, r->buf + r->start, r->end - r->start); r->end -= r->start; r->start = 0; }
        else { r->cap *= 2; r->buf = realloc(r->buf, r->cap); }
    }
    ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end);
    if (n < 0 && errno == EINTR) return;
    if (n <= 0) { fprintf(stderr, "driver: the server closed the connection\n"); exit(3); }
    r->end += (size_t)n;
}

/* Reads one response; returns its status; the body is left at body/body_len. */
static int read_response(reader_t *r, char **body, size_t *body_len) {
    char *end;
    while (!(end = memmem(r->buf + r->start, r->end - r->start, "\r\n\r\n", 4))) fill(r);
    size_t head_len = (size_t)(end - (r->buf + r->start)) + 4;
    char *head = r->buf + r->start;
    int status = atoi(head + 9);
    long content_length = -1;
    int chunked = 0;
    for (char *p = head; p < head + head_len; ) {
        char *eol = memmem(p, (size_t)(head + head_len - p), "\r\n", 2);
        if (!eol) break;
        if (strncasecmp(p, "content-length:", 15) == 0) content_length = atol(p + 15);
        if (strncasecmp(p, "transfer-encoding:", 18) == 0 && memmem(p, (size_t)(eol - p), "chunked", 7)) chunked = 1;
        p = eol + 2;
    }
    r->start += head_len;
    if (!chunked) {
        if (content_length < 0) content_length = 0;
        while (r->end - r->start < (size_t)content_length) fill(r);
        *body = r->buf + r->start; *body_len = (size_t)content_length;
        r->start += (size_t)content_length;
        return status;
    }
    *body = NULL; *body_len = 0;
    for (;;) {
        char *eol;
        while (!(eol = memmem(r->buf + r->start, r->end - r->start, "\r\n", 2))) fill(r);
        long size = strtol(r->buf + r->start, NULL, 16);
        size_t line = (size_t)(eol - (r->buf + r->start)) + 2;
        while (r->end - r->start < line + (size_t)size + 2) fill(r);
        r->start += line + (size_t)size + 2;
        if (size == 0) return status;
    }
}

static void *http_worker(void *p) {
    http_arg *a = p;
    int fd = http_connect(a->host, a->port);
    reader_t r; reader_init(&r, fd);
    char body[8192], request[16384];
    long capacity = a->count > 0 ? a->count : 0;
    a->lat = capacity ? malloc(sizeof(double) * (size_t)capacity) : NULL;
    for (long i = 0; a->count > 0 ? i < a->count : !*a->stop; i++) {
        size_t blen = expand(a->template, (long)a->index * 100000000L + i + 1, body, sizeof body, 0);
        int n = snprintf(request, sizeof request,
                         "%s %s HTTP/1.1\r\nHost: %s:%d\r\nAuthorization: %s\r\n"
                         "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                         a->method, a->path, a->host, a->port, a->auth, blen, body);
        double t0 = now();
        write_all(fd, request, (size_t)n);
        char *rb; size_t rlen;
        int status = read_response(&r, &rb, &rlen);
        if (a->lat) a->lat[i] = now() - t0;
        if (status < 200 || status > 299) a->non2xx++;
        if (rb) {
            a->sample_len = rlen < sizeof a->sample ? rlen : sizeof a->sample;
            memcpy(a->sample, rb, a->sample_len);
        }
        a->done++;
    }
    close(fd);
    free(r.buf);
    return NULL;
}

static int mode_http(int argc, char **argv) {
    if (argc < 10) return -1;
    int conc = atoi(argv[3]);
    volatile int stop = 0;
    http_arg *args = calloc((size_t)conc, sizeof(http_arg));
    pthread_t *threads = calloc((size_t)conc, sizeof(pthread_t));
    double t0 = now();
    for (int i = 0; i < conc; i++) {
        args[i] = (http_arg){ .host = argv[1], .port = atoi(argv[2]), .count = atol(argv[4]),
                              .seconds = atof(argv[5]), .method = argv[6], .path = argv[7], .auth = argv[8],
                              .template = argv[9], .stop = &stop, .index = i };
        pthread_create(&threads[i], NULL, http_worker, &args[i]);
    }
    if (atol(argv[4]) <= 0) {
        struct timespec d = { (time_t)atof(argv[5]), (long)((atof(argv[5]) - (double)(time_t)atof(argv[5])) * 1e9) };
        nanosleep(&d, NULL);
        stop = 1;
    }
    long done = 0, non2xx = 0;
    for (int i = 0; i < conc; i++) { pthread_join(threads[i], NULL); done += args[i].done; non2xx += args[i].non2xx; }
    double seconds = now() - t0;
    double p50 = 0, p99 = 0;
    if (args[0].lat) {
        qsort(args[0].lat, (size_t)args[0].done, sizeof(double), cmp_double);
        p50 = percentile(args[0].lat, (size_t)args[0].done, 0.5);
        p99 = percentile(args[0].lat, (size_t)args[0].done, 0.99);
    }
    printf("{\"count\":%ld,\"seconds\":%.9f,\"per_second\":%.1f,\"non2xx\":%ld,\"p50\":%.9f,\"p99\":%.9f,\"sample\":",
           done, seconds, (double)done / seconds, non2xx, p50, p99);
    json_string(stdout, args[0].sample, args[0].sample_len);
    printf("}\n");
    return 0;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    int rc = -1;
    if (argc >= 2 && !strcmp(argv[1], "startup")) rc = mode_startup(argc - 1, argv + 1);
    else if (argc >= 2 && !strcmp(argv[1], "roundtrip")) rc = mode_roundtrip(argc - 1, argv + 1);
    else if (argc >= 2 && !strcmp(argv[1], "pipeline")) rc = mode_pipeline(argc - 1, argv + 1);
    else if (argc >= 2 && !strcmp(argv[1], "http")) rc = mode_http(argc - 1, argv + 1);
    if (rc < 0) {
        fprintf(stderr, "usage: see the comment at the top of benchmarks/driver/driver.c\n");
        return 2;
    }
    return 0;
}
