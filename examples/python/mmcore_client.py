"""A scripted client for mmcore: spawn it, call methods, collect events.

Standard library only, so it runs anywhere python3 does. Used by the quickstart demo
and by tests; also a template for automation:

    with MMCore(["mmcore", "--state-dir", d]) as core:
        core.call("init", [{"applicationCode": "app", "backendBaseURL": url}])
        event = core.wait_event("registrationUpdated")
        try:
            user = core.call("saveUser", [{"firstName": "Ada"}])
        except MMCoreError as e:
            print(e.data["code"])            # what apps switch on

Core -> client requests (`requestUserDataJwt`) are answered by `token_provider`, a
function `(params) -> str | None`, when one is given.
"""

import json
import queue
import subprocess
import threading
import time


class MMCoreError(Exception):
    """An error response: `code` is the JSON-RPC integer, `data` the {code, description, ...} object."""

    def __init__(self, error):
        self.error = error
        self.code = error.get("code")
        self.data = error.get("data") or {}
        super().__init__(f"{self.data.get('code', self.code)}: {self.data.get('description', error.get('message'))}")


class MMCore:
    def __init__(self, argv, env=None, token_provider=None, on_line=None, stderr=subprocess.PIPE):
        self.token_provider = token_provider
        self.on_line = on_line  # called with ("->" | "<-", line) for transcripts
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, env=env, bufsize=0
        )
        self._next_id = 0
        self._lock = threading.Lock()
        self._responses = {}
        self._response_ready = threading.Condition(self._lock)
        self.events = queue.Queue()
        self.all_events = []
        self.stdout_lines = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # MARK: calls

    def send_line(self, line):
        if self.on_line:
            self.on_line("->", line)
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def call(self, method, params=None, timeout=30):
        """Sends a request and returns its result, or raises MMCoreError."""
        with self._lock:
            self._next_id += 1
            request_id = self._next_id
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send_line(json.dumps(message, separators=(",", ":")))
        response = self.wait_response(request_id, timeout)
        if "error" in response:
            raise MMCoreError(response["error"])
        return response.get("result")

    def wait_response(self, request_id, timeout=30):
        deadline = time.monotonic() + timeout
        with self._lock:
            while request_id not in self._responses:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no response to request {request_id} within {timeout} s")
                self._response_ready.wait(remaining)
            return self._responses.pop(request_id)

    def wait_event(self, name, timeout=30):
        """Returns the payload of the next `event` notification called `name`."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {name} event within {timeout} s")
            event = self.events.get(timeout=remaining)
            if event["eventName"] == name:
                return event["payload"]

    def close(self, timeout=10):
        """Closes stdin (mmcore exits 0 on EOF) and returns the exit status."""
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        try:
            self.close()
        except Exception:
            pass

    # MARK: reading

    def _read(self):
        for raw in self.process.stdout:
            line = raw.decode().rstrip("\n")
            self.stdout_lines.append(line)
            if self.on_line:
                self.on_line("<-", line)
            message = json.loads(line)  # every stdout line must be JSON: let a violation surface
            if isinstance(message, list):
                for item in message:
                    self._deliver(item)
            else:
                self._deliver(message)
        with self._lock:
            self._response_ready.notify_all()

    def _deliver(self, message):
        if "method" in message and "id" in message:
            self._answer_core_request(message)
        elif message.get("method") == "event":
            self.all_events.append(message["params"])
            self.events.put(message["params"])
        else:
            with self._lock:
                self._responses[message.get("id")] = message
                self._response_ready.notify_all()

    def _answer_core_request(self, message):
        if message["method"] == "requestUserDataJwt" and self.token_provider:
            result = self.token_provider(message.get("params") or {})
            reply = {"jsonrpc": "2.0", "id": message["id"], "result": result}
        else:
            reply = {"jsonrpc": "2.0", "id": message["id"],
                     "error": {"code": -32601, "message": f"Method not found: {message['method']}"}}
        self.send_line(json.dumps(reply, separators=(",", ":")))
