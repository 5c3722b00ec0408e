#!/usr/bin/env python3
"""The mmcore library inside a Python process, through ctypes (standard library only).

    python3 examples/embedded/ctypes_example.py --library PATH/libMMCoreEmbedded.so [--mmserver PATH]
    python3 examples/python/with_local_server.py --authorization JWT_ONLY -- \
        python3 examples/embedded/ctypes_example.py --library PATH/libMMCoreEmbedded.so

Starts a local mmserver (a JWT_ONLY application) unless given one (--server-url,
--application-code, --kid, --secret), loads the library, opens a core on a
fresh state directory and speaks the same JSON lines `mmcore` speaks on stdio: init,
setUserDataJwt, saveUser, then the opt-in token provider, whose request the output
callback answers from inside the callback; then closes the core. Prints one JSON line
per step and exits 0 when every step went as expected.

The mmserver is $MMSERVER_BIN or --mmserver, else .build/debug/mmserver.
"""
import argparse
import contextlib
import ctypes
import json
import os
import queue
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "examples" / "python"))
sys.path.insert(0, str(ROOT / "examples" / "mint-token"))
from local_server import LocalServer  # noqa: E402
from mint import mint  # noqa: E402

# MARK: The C interface (include/mmcore.h), declared for ctypes

MMCORE_OK = 0
MMCORE_ERROR_CLOSED = 3
MMCORE_LOG_INFO = 3

OUTPUT_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t)
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t)


class Options(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_size_t),
        ("state_directory", ctypes.c_char_p),
        ("output", OUTPUT_FN),
        ("log", LOG_FN),
        ("context", ctypes.c_void_p),
        ("log_level", ctypes.c_int),
        ("max_line_bytes", ctypes.c_size_t),
        ("max_messages_in_flight", ctypes.c_size_t),
    ]


def load(path):
    library = ctypes.CDLL(path)
    library.mmcore_open.argtypes = [ctypes.POINTER(Options), ctypes.POINTER(ctypes.c_uint64)]
    library.mmcore_open.restype = ctypes.c_int
    library.mmcore_input.argtypes = [ctypes.c_uint64, ctypes.c_char_p, ctypes.c_size_t]
    library.mmcore_input.restype = ctypes.c_int
    library.mmcore_close.argtypes = [ctypes.c_uint64]
    library.mmcore_close.restype = ctypes.c_int
    library.mmcore_status_message.argtypes = [ctypes.c_int]
    library.mmcore_status_message.restype = ctypes.c_char_p
    library.mmcore_version.restype = ctypes.c_char_p
    return library


class MMCoreError(Exception):
    pass


class Core:
    """One in-process core. Output lines arrive on the core's callback thread and are
    queued; `call` writes a request and waits for the response with its id. Requests the
    core sends (requestUserDataJwt) are answered from inside the callback, which the
    header allows for mmcore_input."""

    def __init__(self, library, state_directory, token_provider=None):
        self.library = library
        self.messages = queue.Queue()
        self.events = []
        self.logs = []
        self.token_provider = token_provider
        self.core_requests = []
        self.next_id = 0
        # ctypes callbacks must stay referenced as long as the core may call them.
        self._output = OUTPUT_FN(self._on_output)
        self._log = LOG_FN(self._on_log)
        options = Options(size=ctypes.sizeof(Options), state_directory=state_directory.encode(),
                          output=self._output, log=self._log, log_level=MMCORE_LOG_INFO)
        handle = ctypes.c_uint64()
        self._check(library.mmcore_open(ctypes.byref(options), ctypes.byref(handle)), "mmcore_open")
        self.handle = handle.value

    def _check(self, status, what):
        if status != MMCORE_OK:
            raise MMCoreError(f"{what}: {status} {self.library.mmcore_status_message(status).decode()}")

    # Callbacks run on the core's own thread; an exception there would only be printed.
    def _on_output(self, _context, line, length):
        message = json.loads(ctypes.string_at(line, length))
        if message.get("method") == "requestUserDataJwt" and "id" in message and self.token_provider:
            self.core_requests.append(message)
            answer = {"jsonrpc": "2.0", "id": message["id"], "result": self.token_provider(message["params"])}
            data = (json.dumps(answer) + "\n").encode()
            self.library.mmcore_input(self.handle, data, len(data))
            return
        self.messages.put(message)

    def _on_log(self, _context, level, message, length):
        self.logs.append((level, ctypes.string_at(message, length).decode()))

    def write(self, data):
        self._check(self.library.mmcore_input(self.handle, data, len(data)), "mmcore_input")

    def call(self, method, params=None, timeout=15):
        self.next_id += 1
        request = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            request["params"] = params
        self.write((json.dumps(request) + "\n").encode())
        return self.wait_for(lambda m: m.get("id") == request["id"] and "method" not in m, timeout)

    def wait_for(self, matches, timeout=15):
        while True:
            message = self.messages.get(timeout=timeout)
            if matches(message):
                return message
            if message.get("method") == "event":
                self.events.append(message["params"])

    def wait_for_event(self, name, timeout=15):
        for index, event in enumerate(self.events):
            if event["eventName"] == name:
                return self.events.pop(index)
        message = self.wait_for(lambda m: m.get("method") == "event" and m["params"]["eventName"] == name, timeout)
        return message["params"]

    def close(self):
        return self.library.mmcore_close(self.handle)


# MARK: The example

def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", required=True, help="path of libMMCoreEmbedded")
    parser.add_argument("--mmserver", default=os.environ.get("MMSERVER_BIN") or str(ROOT / ".build" / "debug" / "mmserver"))
    for name in ("--server-url", "--application-code", "--kid", "--secret"):
        parser.add_argument(name, help="a running server's JWT_ONLY application (else one is started)")
    args = parser.parse_args(argv)
    given = (args.server_url, args.application_code, args.kid, args.secret)
    if any(given) and not all(given):
        parser.error("--server-url, --application-code, --kid and --secret go together")
    failures = 0

    def step(name, ok, **details):
        nonlocal failures
        failures += 0 if ok else 1
        print(json.dumps({"step": name, "ok": bool(ok), **details}), flush=True)

    library = load(args.library)
    step("loaded", True, version=library.mmcore_version().decode())

    with contextlib.ExitStack() as stack:
        if all(given):
            server_url, code, key_id, secret = given
        else:
            server = stack.enter_context(LocalServer(args.mmserver))
            server_url = server.url
            code, key_id, secret = server.create_application("JWT_ONLY")
        state = stack.enter_context(tempfile.TemporaryDirectory(prefix="mmcore-ctypes-"))
        core = Core(library, os.path.join(state, "core"),
                    token_provider=lambda params: mint(key_id, secret, code, params.get("externalUserId") or "ada", 300))
        step("opened", True, handle=core.handle)

        configuration = {"applicationCode": code, "backendBaseURL": server_url, "requestTimeoutSeconds": 5}
        answer = core.call("init", [configuration])
        step("init", answer.get("result", "missing") is None, answer=answer)
        registration = core.wait_for_event("registrationUpdated")
        step("registrationUpdated", isinstance(registration.get("payload"), str))

        answer = core.call("saveUser", [{"firstName": "Ada"}])
        step("saveUser without a token", answer.get("error", {}).get("data", {}).get("code") == "ACCESS_TOKEN_MISSING",
             code=answer.get("error", {}).get("data", {}).get("code"))

        answer = core.call("setUserDataJwt", [mint(key_id, secret, code, "ada", 300)])
        step("setUserDataJwt", answer.get("result", "missing") is None, answer=answer)
        answer = core.call("personalize", [{"userIdentity": {"externalUserId": "ada"}}])
        step("personalize", answer.get("result", {}).get("externalUserId") == "ada")

        answer = core.call("saveUser", [{"lastName": "Lovelace"}])
        user = answer.get("result") or {}
        step("saveUser", user.get("externalUserId") == "ada" and user.get("lastName") == "Lovelace",
             user={k: user.get(k) for k in ("externalUserId", "firstName", "lastName")})

        # One request split across three calls: the input is framed as stdin is.
        core.write(b'{"jsonrpc":"2.0","id":"split","met')
        core.write(b'hod":"getUser"}')
        core.write(b"\n")
        answer = core.wait_for(lambda m: m.get("id") == "split")
        step("a line split across calls", (answer.get("result") or {}).get("lastName") == "Lovelace")

        # The opt-in provider: the core asks for a token; the callback answers inline.
        core.call("init", [dict(configuration, userDataJwtProvider=True)])
        core.call("setUserDataJwt", [None])
        answer = core.call("saveUser", [{"middleName": "King"}])
        step("token provider answered from inside the callback",
             (answer.get("result") or {}).get("middleName") == "King" and len(core.core_requests) == 1,
             requests=len(core.core_requests))

        status = core.close()
        step("closed", status == MMCORE_OK, status=status)
        again = core.close()
        step("closing again is an error, not a crash", again == MMCORE_ERROR_CLOSED,
             status=again, message=library.mmcore_status_message(again).decode())
        after = library.mmcore_input(core.handle, b"{}\n", 3)
        step("input after close is refused", after == MMCORE_ERROR_CLOSED, status=after)
        step("logs reached the log callback", any("serving in process" in text for _, text in core.logs),
             lines=len(core.logs))
        step("state persisted", os.path.exists(os.path.join(state, "core", "state.json")))

    print(json.dumps({"done": True, "failures": failures}), flush=True)
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
