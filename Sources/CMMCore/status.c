#include "mmcore.h"

/* The status texts live beside the codes' definitions, in C: static storage that any
 * host may keep a pointer to, with no Swift involved. */
const char *mmcore_status_message(int status) {
    switch (status) {
    case MMCORE_OK:
        return "success";
    case MMCORE_ERROR_NULL_ARGUMENT:
        return "a required pointer argument was NULL";
    case MMCORE_ERROR_INVALID_ARGUMENT:
        return "an argument has a value the interface does not accept (empty state directory, unknown log level, "
               "options size too small)";
    case MMCORE_ERROR_CLOSED:
        return "no open core has this handle: it was closed, is being closed, or was never opened";
    case MMCORE_ERROR_STATE_DIRECTORY_IN_USE:
        return "another open core of this process uses the same state directory";
    case MMCORE_ERROR_IN_CALLBACK:
        return "mmcore_close cannot be called from inside a callback: closing waits for the callbacks to end";
    default:
        return "unknown status code";
    }
}
