/* The in-process core's benchmark driver: the same measurements as driver.c's startup
 * and roundtrip, through the C interface (include/mmcore.h) instead of a child's pipes.
 * Prints one JSON object on stdout.
 *
 *   inprocess startup   RUNS STATE LINE            mmcore_open, send LINE, wait for its
 *                                                  answer (timed), then mmcore_close
 *                                                  (timed apart); RUNS times in one process
 *   inprocess roundtrip STATE SETUP COUNT TEMPLATE one request in flight at a time
 *
 * SETUP is a file of JSON lines sent one at a time, each awaiting its answer. In
 * TEMPLATE every "{i}" becomes the request number. A line from the core is an answer
 * unless it starts like a notification ({"jsonrpc":"2.0","method").
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mmcore.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Answers counted by the output callback (on the core's thread), awaited here. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t answered = PTHREAD_COND_INITIALIZER;
static long answers = 0;
static long errors = 0;
static char first_answer[4096];

static void on_output(void *context, const char *line, size_t length) {
    (void)context;
    static const char notification[] = "{\"jsonrpc\":\"2.0\",\"method\"";
    if (length >= sizeof notification - 1 && memcmp(line, notification, sizeof notification - 1) == 0) return;
    pthread_mutex_lock(&lock);
    if (answers == 0 && first_answer[0] == 0) snprintf(first_answer, sizeof first_answer, "%.*s", (int)length, line);
    if (strstr(line, "\"error\"")) errors++;
    answers++;
    pthread_cond_broadcast(&answered);
    pthread_mutex_unlock(&lock);
}

static void on_log(void *context, int level, const char *message, size_t length) {
    (void)context; (void)level; (void)message; (void)length; /* quiet, as driver.c's children */
}

static void wait_for_answers(long count) {
    pthread_mutex_lock(&lock);
    while (answers < count) pthread_cond_wait(&answered, &lock);
    pthread_mutex_unlock(&lock);
}

static mmcore_handle open_core(const char *state) {
    mmcore_options options;
    memset(&options, 0, sizeof options);
    options.size = sizeof options;
    options.state_directory = state;
    options.output = on_output;
    options.log = on_log;
    mmcore_handle core = 0;
    int status = mmcore_open(&options, &core);
    if (status != MMCORE_OK) {
        fprintf(stderr, "mmcore_open: %s\n", mmcore_status_message(status));
        exit(2);
    }
    return core;
}

static void send_line(mmcore_handle core, const char *line) {
    size_t length = strlen(line);
    char *buffer = malloc(length + 1);
    memcpy(buffer, line, length);
    buffer[length] = '\n';
    if (mmcore_input(core, buffer, length + 1) != MMCORE_OK) {
        fprintf(stderr, "mmcore_input failed\n");
        exit(2);
    }
    free(buffer);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double percentile(const double *sorted, long n, double p) {
    return n == 0 ? 0 : sorted[(long)(p * (double)(n - 1) + 0.5)];
}

static void print_list(const char *name, const double *values, long n) {
    printf("\"%s\":[", name);
    for (long i = 0; i < n; i++) printf(i ? ",%.9f" : "%.9f", values[i]);
    printf("]");
}

static int startup(long runs, const char *state, const char *line) {
    double *open_to_answer = calloc((size_t)runs, sizeof(double));
    double *closing = calloc((size_t)runs, sizeof(double));
    for (long i = 0; i < runs; i++) {
        long before = answers;
        double start = now();
        mmcore_handle core = open_core(state);
        send_line(core, line);
        wait_for_answers(before + 1);
        open_to_answer[i] = now() - start;
        double close_start = now();
        mmcore_close(core);
        closing[i] = now() - close_start;
    }
    printf("{");
    print_list("seconds", open_to_answer, runs);
    printf(",");
    print_list("close_seconds", closing, runs);
    printf(",\"errors\":%ld,\"sample\":\"", errors);
    for (const char *p = first_answer; *p; p++) printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
    printf("\"}\n");
    return 0;
}

static int roundtrip(const char *state, const char *setup_path, long count, const char *template) {
    mmcore_handle core = open_core(state);
    FILE *setup = fopen(setup_path, "r");
    if (!setup) { perror(setup_path); return 2; }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t length;
    long sent = 0;
    while ((length = getline(&line, &capacity, setup)) > 0) {
        if (line[length - 1] == '\n') line[length - 1] = 0;
        send_line(core, line);
        wait_for_answers(++sent);
    }
    fclose(setup);
    long setup_errors = errors;

    double *latency = calloc((size_t)count, sizeof(double));
    char request[4096];
    double start = now();
    for (long i = 0; i < count; i++) {
        size_t o = 0;
        for (const char *p = template; *p && o < sizeof request - 32;) {
            if (p[0] == '{' && p[1] == 'i' && p[2] == '}') { o += (size_t)sprintf(request + o, "%ld", i + 1); p += 3; }
            else request[o++] = *p++;
        }
        request[o] = 0;
        double t = now();
        send_line(core, request);
        wait_for_answers(++sent);
        latency[i] = now() - t;
    }
    double seconds = now() - start;
    mmcore_close(core);
    qsort(latency, (size_t)count, sizeof(double), cmp_double);
    printf("{\"count\":%ld,\"seconds\":%.9f,\"p50\":%.9f,\"p99\":%.9f,\"max\":%.9f,\"errors\":%ld,\"setup_errors\":%ld}\n",
           count, seconds, percentile(latency, count, 0.5), percentile(latency, count, 0.99),
           count ? latency[count - 1] : 0, errors - setup_errors, setup_errors);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "startup") == 0) return startup(atol(argv[2]), argv[3], argv[4]);
    if (argc == 6 && strcmp(argv[1], "roundtrip") == 0) return roundtrip(argv[2], argv[3], atol(argv[4]), argv[5]);
    fprintf(stderr, "usage: see the comment at the top of benchmarks/embedded/inprocess.c\n");
    return 2;
}
