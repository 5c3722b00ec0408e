/*
 * host.c: `mmcore` again, as a C program that loads the core as a library.
 *
 * It bridges its own stdin and stdout to an in-process core (mmcore.h) and takes the
 * executable's command line, so every black-box test of `mmcore` runs against it
 * unchanged (MMCORE_TRANSPORT=embedded): proof that both transports are one core.
 *
 *   mmcore-embedded-host --state-dir <dir> [--log-level L] [--max-line-bytes N]
 *                        [--max-messages-in-flight N]
 *   mmcore-embedded-host --version | --print-schema | --list-methods | --help
 *
 * Build: examples/embedded/build-host (cc, linked against libMMCoreEmbedded).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mmcore.h"

/* The protocol's own copy of stdout; descriptor 1 then points at stderr, so a stray
 * print in the process cannot corrupt the message stream (as mmcore does). */
static int protocol_output = -1;
/* Written by the signal thread and the output callback to wake the main loop. */
static int wake_pipe[2] = {-1, -1};

static void wake_main_loop(void) {
    char byte = 1;
    ssize_t ignored = write(wake_pipe[1], &byte, 1);
    (void)ignored;
}

/* The core's output callback: one message per call, written whole with its newline. */
static void write_line(void *context, const char *line, size_t length) {
    (void)context;
    static int gone = 0; /* callbacks of one core never run concurrently */
    if (gone) return;
    struct iovec parts[2] = {{(void *)line, length}, {"\n", 1}};
    size_t total = length + 1, done = 0;
    while (done < total) {
        ssize_t written = writev(protocol_output, parts, 2);
        if (written < 0) {
            if (errno == EINTR) continue;
            gone = 1; /* EPIPE: the client closed its end; stop reading, as mmcore does */
            wake_main_loop();
            return;
        }
        done += (size_t)written;
        for (int i = 0; i < 2 && written > 0; i++) {
            size_t step = (size_t)written < parts[i].iov_len ? (size_t)written : parts[i].iov_len;
            parts[i].iov_base = (char *)parts[i].iov_base + step;
            parts[i].iov_len -= step;
            written -= (ssize_t)step;
        }
    }
}

/* SIGTERM and SIGINT are blocked in every thread and taken here, so the main loop can
 * close the core from an ordinary thread (a signal handler could not). */
static void *watch_signals(void *set) {
    int number;
    if (sigwait((sigset_t *)set, &number) == 0) {
        fprintf(stderr, "mmcore-embedded-host: received signal %d; stopping\n", number);
        wake_main_loop();
    }
    return NULL;
}

/* Returns the protocol's descriptor: a private copy of stdout, with stdout itself then
 * pointing at stderr. */
static int take_standard_output(void) {
    int output = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
    if (output < 0 || dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
        perror("mmcore-embedded-host: taking stdout");
        return -1;
    }
    return output;
}

static const char synopsis[] =
    "mmcore-embedded-host [--state-dir <state-dir>] [--log-level <log-level>] [--max-line-bytes <max-line-bytes>] "
    "[--max-messages-in-flight <max-messages-in-flight>] [--print-schema]";

static int help(void) {
    printf("OVERVIEW: mmcore through the in-process library: JSON-RPC 2.0 over this program's stdio.\n\n"
           "USAGE: %s\n\n"
           "OPTIONS:\n"
           "  --state-dir <state-dir>  Directory of the persisted state (default: $MMCORE_STATE_DIR, else the per-user\n"
           "                           data directory).\n"
           "  --log-level <log-level>  Lowest level logged to stderr (trace, debug, info, notice, warning, error,\n"
           "                           critical; default: info).\n"
           "  --max-line-bytes <max-line-bytes>\n"
           "                           Longest accepted input line in bytes.\n"
           "  --max-messages-in-flight <max-messages-in-flight>\n"
           "                           Messages read but not yet answered before reading pauses.\n"
           "  --print-schema           Print the OpenRPC document describing the methods, and exit.\n"
           "  --version                Show the version.\n"
           "  -h, --help               Show help information.\n",
           synopsis);
    return 0;
}

/* A usage error as mmcore words it (its wrappers and tests read the same text), exit 64. */
static int usage_error(const char *format, const char *a, const char *b) {
    fputs("Error: ", stderr);
    fprintf(stderr, format, a, b);
    fprintf(stderr, "\nUsage: %s\n  See 'mmcore-embedded-host --help' for more information.\n", synopsis);
    return 64;
}

static int parse_size(const char *text, size_t *value) {
    char *end = NULL;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || parsed <= 0) return 0;
    *value = (size_t)parsed;
    return 1;
}

static int parse_level(const char *text, int *level) {
    static const char *names[] = {"trace", "debug", "info", "notice", "warning", "error", "critical"};
    for (int i = 0; i < 7; i++) {
        if (strcmp(text, names[i]) == 0) {
            *level = MMCORE_LOG_TRACE + i;
            return 1;
        }
    }
    return 0;
}

/* --state-dir, else $MMCORE_STATE_DIR, else $XDG_DATA_HOME/mmcore, else
 * ~/.local/share/mmcore: mmcore's own rule. */
static char *default_state_directory(void) {
    const char *direct = getenv("MMCORE_STATE_DIR");
    if (direct && *direct) return strdup(direct);
    char *path = NULL;
    const char *data_home = getenv("XDG_DATA_HOME");
    if (data_home && *data_home) {
        if (asprintf(&path, "%s/mmcore", data_home) < 0) return NULL;
        return path;
    }
    const char *home = getenv("HOME");
    if (asprintf(&path, "%s/.local/share/mmcore", home && *home ? home : ".") < 0) return NULL;
    return path;
}

static void print_text(const char *text) {
    fputs(text, stdout);
    fflush(stdout);
}

int main(int argc, char **argv) {
    mmcore_options options;
    memset(&options, 0, sizeof options);
    options.size = sizeof options;
    char *state_directory = NULL;

    for (int i = 1; i < argc; i++) {
        const char *argument = argv[i];
        if (argument[0] != '-') return usage_error("Unexpected argument '%s'%s", argument, "");
        const char *equals = strncmp(argument, "--", 2) == 0 ? strchr(argument, '=') : NULL;
        char name[64];
        size_t name_length = equals ? (size_t)(equals - argument) : strlen(argument);
        if (name_length >= sizeof name) return usage_error("Unknown option '%s'%s", argument, "");
        memcpy(name, argument, name_length);
        name[name_length] = '\0';

        if (strcmp(name, "--version") == 0) {
            printf("mmcore %s\n", mmcore_version());
            return 0;
        } else if (strcmp(name, "--print-schema") == 0) {
            print_text(mmcore_schema());
            return 0;
        } else if (strcmp(name, "--list-methods") == 0) {
            print_text(mmcore_method_names());
            return 0;
        } else if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
            return help();
        }
        const char *synopses[] = {"--state-dir <state-dir>", "--log-level <log-level>",
                                  "--max-line-bytes <max-line-bytes>",
                                  "--max-messages-in-flight <max-messages-in-flight>"};
        int option = -1;
        for (int o = 0; o < 4; o++) {
            size_t length = strcspn(synopses[o], " ");
            if (strlen(name) == length && strncmp(name, synopses[o], length) == 0) option = o;
        }
        if (option < 0) return usage_error("Unknown option '%s'%s", name, "");
        /* As mmcore (and ArgumentParser): an argument that starts with "-" is never a value. */
        const char *value = equals ? equals + 1 : (i + 1 < argc && argv[i + 1][0] != '-') ? argv[++i] : "";
        if (!*value) return usage_error("Missing value for '%s'%s", synopses[option], "");
        size_t size = 0;
        switch (option) {
        case 0:
            free(state_directory);
            state_directory = strdup(value);
            break;
        case 1:
            if (!parse_level(value, &options.log_level))
                return usage_error("The value '%s' is invalid for '%s'", value, synopses[option]);
            break;
        default:
            if (!parse_size(value, &size)) {
                return usage_error(option == 2 ? "--max-line-bytes must be a positive number of bytes, got %s.%s"
                                               : "--max-messages-in-flight must be a positive number, got %s.%s",
                                   value, "");
            }
            if (option == 2) options.max_line_bytes = size;
            else options.max_messages_in_flight = size;
        }
    }
    if (!state_directory || !*state_directory) {
        free(state_directory);
        state_directory = default_state_directory();
    }

    signal(SIGPIPE, SIG_IGN); /* a client gone is EPIPE from write, not the end of us */
    sigset_t stopping;
    sigemptyset(&stopping);
    sigaddset(&stopping, SIGTERM);
    sigaddset(&stopping, SIGINT);
    /* Before any thread exists, so every thread (the library's too) inherits the mask. */
    pthread_sigmask(SIG_BLOCK, &stopping, NULL);
    if (pipe(wake_pipe) != 0) {
        perror("mmcore-embedded-host: pipe");
        return 1;
    }
    pthread_t watcher;
    pthread_create(&watcher, NULL, watch_signals, &stopping);
    pthread_detach(watcher);

    protocol_output = take_standard_output();
    if (protocol_output < 0) return 1;

    options.state_directory = state_directory;
    options.output = write_line;
    mmcore_handle core = 0;
    int status = mmcore_open(&options, &core);
    if (status != MMCORE_OK) {
        fprintf(stderr, "mmcore-embedded-host: mmcore_open failed: %s\n", mmcore_status_message(status));
        return 1;
    }

    /* Read stdin until it ends (or a signal, or the client closes stdout), handing the
     * bytes to the core as they come. */
    char buffer[64 * 1024];
    struct pollfd watched[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};
    for (;;) {
        if (poll(watched, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (watched[1].revents) break;
        if (!watched[0].revents) continue;
        ssize_t count = read(STDIN_FILENO, buffer, sizeof buffer);
        if (count < 0 && errno == EINTR) continue;
        if (count <= 0) break; /* end of input, or it is gone */
        if (mmcore_input(core, buffer, (size_t)count) != MMCORE_OK) break;
    }

    status = mmcore_close(core);
    free(state_directory);
    if (status != MMCORE_OK) {
        fprintf(stderr, "mmcore-embedded-host: mmcore_close failed: %s\n", mmcore_status_message(status));
        return 1;
    }
    return 0;
}
