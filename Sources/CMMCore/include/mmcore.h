/*
 * mmcore.h: the Mobile Messaging user-data bridge core, in process.
 *
 * The same core as the `mmcore` executable, speaking the same JSON-RPC 2.0 lines
 * (schema/openrpc.json): instead of writing to a child's stdin and reading its stdout, a
 * host hands input bytes to mmcore_input() and receives each outgoing line through a
 * callback. Everything the README says about the protocol holds unchanged: call order,
 * limits, backpressure, events, requests the core sends (`requestUserDataJwt`), and
 * closing (what closing stdin does). How wrappers load it: docs/embedding.md.
 *
 * Threads. Every function may be called from any thread. mmcore_input and mmcore_close
 * may block the calling thread (backpressure, the wind-down), so call them from threads
 * of your own: not, in a Swift host, from a task on the concurrency pool, whose few
 * threads the core itself runs on. Each core makes all of its
 * callbacks (output and log) from one serial queue of its own: one callback at a time,
 * in the order the core produced them, never on the thread that called mmcore_input.
 * Different cores call back independently, possibly at the same time.
 *
 * Inside a callback you may call mmcore_input (for instance to answer the core's own
 * request) and any function but mmcore_close, which then fails with
 * MMCORE_ERROR_IN_CALLBACK: closing waits for the callbacks to end. Do not block a
 * callback for long: the core's later output waits behind it.
 *
 * Errors of this interface are status codes (mmcore_status_message() describes each),
 * never a crash or an abort. Errors of the protocol are JSON-RPC error responses.
 */
#ifndef MMCORE_H
#define MMCORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* MARK: Status codes */

#define MMCORE_OK 0
/** A required pointer argument was NULL. */
#define MMCORE_ERROR_NULL_ARGUMENT 1
/** An argument had a value the interface does not accept (an empty state directory, an
 *  unknown log level, an options size smaller than this header's first version). */
#define MMCORE_ERROR_INVALID_ARGUMENT 2
/** No open core has this handle: it was closed (or is being closed), or never opened. */
#define MMCORE_ERROR_CLOSED 3
/** Another open core of this process uses the same state directory. (Another process
 *  on it is refused by the core's `init` with the JSON-RPC error STATE_LOCKED.) */
#define MMCORE_ERROR_STATE_DIRECTORY_IN_USE 4
/** mmcore_close was called from inside a callback. */
#define MMCORE_ERROR_IN_CALLBACK 5

/** A sentence describing `status` (static storage; never NULL, also for unknown codes). */
const char *mmcore_status_message(int status);

/* MARK: Opening a core */

/** Identifies an open core. Never 0, never reused within a process: a closed handle
 *  stays invalid (MMCORE_ERROR_CLOSED) instead of reaching another core. */
typedef uint64_t mmcore_handle;

/**
 * Receives one complete JSON-RPC message (a response, a batch's array, an `event`
 * notification, or a request of the core's own), as UTF-8 without a line ending.
 * `line[length]` is a NUL byte, so `line` is also a C string. The bytes are valid only
 * during the call: copy what you keep.
 */
typedef void (*mmcore_output_fn)(void *context, const char *line, size_t length);

/** Log levels, the core's (swift-log's) seven. 0 in mmcore_options means INFO. */
#define MMCORE_LOG_TRACE 1
#define MMCORE_LOG_DEBUG 2
#define MMCORE_LOG_INFO 3
#define MMCORE_LOG_NOTICE 4
#define MMCORE_LOG_WARNING 5
#define MMCORE_LOG_ERROR 6
#define MMCORE_LOG_CRITICAL 7

/**
 * Receives one log message at `level` (an MMCORE_LOG_ value) or above the core's level:
 * "<label>: <message>[ key=value ...]" in UTF-8, no line ending, NUL-terminated, valid
 * only during the call. Log messages never carry a user-data JWT.
 */
typedef void (*mmcore_log_fn)(void *context, int level, const char *message, size_t length);

/** How to open a core. Zero-initialize it, set `size` to sizeof(mmcore_options), then
 *  the fields you need: a field added by a later version is read only when `size` covers
 *  it, so a host compiled against this header keeps working. */
typedef struct mmcore_options {
    /** sizeof(mmcore_options) as the host compiled it. */
    size_t size;
    /** Required: where the core keeps its state (created 0700 at the first `init`). One
     *  open core per directory; the `mmcore` executable's --state-dir. */
    const char *state_directory;
    /** Required: receives every outgoing message. */
    mmcore_output_fn output;
    /** Optional: receives log messages; NULL writes them to stderr as `mmcore` does. */
    mmcore_log_fn log;
    /** Passed as is to both callbacks. */
    void *context;
    /** Lowest level logged (MMCORE_LOG_*); 0 means MMCORE_LOG_INFO. */
    int log_level;
    /** Longest accepted input line in bytes; 0 means the default, 1 MiB. */
    size_t max_line_bytes;
    /** Messages read but not answered before mmcore_input waits; 0 means 512. */
    size_t max_messages_in_flight;
} mmcore_options;

/**
 * Opens a core and stores its handle in `*handle`. Nothing touches the state directory
 * or the network before the first `init` request. Several cores may be open at once,
 * each on its own state directory.
 *
 * Returns MMCORE_OK, or MMCORE_ERROR_NULL_ARGUMENT, MMCORE_ERROR_INVALID_ARGUMENT,
 * MMCORE_ERROR_STATE_DIRECTORY_IN_USE (`*handle` is then left unchanged).
 */
int mmcore_open(const mmcore_options *options, mmcore_handle *handle);

/* MARK: Talking */

/**
 * Hands the core `length` input bytes: JSON-RPC messages, one per line (`\n` or `\r\n`),
 * framed exactly as `mmcore` frames its stdin, so a line may be split across calls in any
 * way and a call may hold many lines. Returns once every line the bytes complete is
 * queued; while the core has max_messages_in_flight messages unanswered it first waits
 * (blocking the calling thread, as a write to a full pipe would) until some are answered.
 * Answers, events and the core's own requests come through the output callback.
 *
 * Returns MMCORE_OK, MMCORE_ERROR_NULL_ARGUMENT (`bytes` NULL with `length` > 0),
 * MMCORE_ERROR_INVALID_ARGUMENT (`length` over SSIZE_MAX), or MMCORE_ERROR_CLOSED (the
 * bytes, or those not yet queued when the core began closing, were not taken).
 */
int mmcore_input(mmcore_handle core, const void *bytes, size_t length);

/**
 * Closes a core, as closing `mmcore`'s stdin does: an unterminated last line is still a
 * line; requests in flight finish within the 5 s grace period, or are answered with a
 * CANCELLED error; the state is persisted and the state directory released. Blocks until
 * then, and until every callback has returned; no callback of this core runs afterwards.
 *
 * Returns MMCORE_OK, MMCORE_ERROR_CLOSED (already closed, or being closed by another
 * thread), or MMCORE_ERROR_IN_CALLBACK (called from inside a callback; nothing was done).
 */
int mmcore_close(mmcore_handle core);

/* MARK: About this build */

/** The core's version, "0.1.0" (static storage). */
const char *mmcore_version(void);

/** The OpenRPC document this build serves (what `rpc.discover` answers; static storage). */
const char *mmcore_schema(void);

/** The methods this build serves, one per line, for the test that keeps the method
 *  table and the schema equal (static storage). */
const char *mmcore_method_names(void);

#ifdef __cplusplus
}
#endif

#endif /* MMCORE_H */
