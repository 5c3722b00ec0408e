#!/usr/bin/env python3
"""The whole story in one command: a local Mobile API, mmcore, and user-data JWTs.

Builds the package if needed, starts `mmserver` on a free port with a JWT_ONLY
application and a secret key, spawns `mmcore`, and walks through a session (user data,
JWTs, custom events), printing
every JSON line exchanged (tokens shortened). Exits non-zero if any step does not
behave as shown. Run from the repository root:

    python3 examples/quickstart.py
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))
from local_server import LocalServer  # noqa: E402
from mmcore_client import MMCore, MMCoreError  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JWT_LIKE = re.compile(r"eyJ[\w-]{4,}\.[\w-]+\.[\w-]+")
USE_COLOR = sys.stdout.isatty()


def shorten_tokens(text):
    return JWT_LIKE.sub(lambda m: m.group(0)[:12] + "…", text)


def say(text, color="1"):
    print(f"\033[{color}m{text}\033[0m" if USE_COLOR else text, flush=True)


def show_line(direction, line):
    print(f"    {direction} {shorten_tokens(line)}", flush=True)


class Demo:
    def __init__(self):
        self.failures = 0

    def step(self, title):
        print()
        say(f"▶ {title}")

    def check(self, ok, what):
        if ok:
            say(f"  ✓ {what}", "32")
        else:
            say(f"  ✗ {what}", "31")
            self.failures += 1

    def expect_error(self, call, code):
        try:
            call()
        except MMCoreError as error:
            self.check(error.data.get("code") == code, f"refused with {error.data.get('code')}: {error.data.get('description')}")
            return error
        self.check(False, f"expected {code}, but the call succeeded")
        return None


def build():
    """Builds both executables (a no-op when they are up to date) and returns their paths."""
    say("Building mmcore and mmserver (the first build takes several minutes on a 2-core machine; later ones seconds)…", "2")
    for product in ("mmserver", "mmcore"):
        subprocess.run(["swift", "build", "--product", product], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL if os.environ.get("CI") else None)
    bin_path = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    return os.path.join(bin_path, "mmcore"), os.path.join(bin_path, "mmserver")


def mint(mmserver, key_id, secret, app_code, sub, lifetime):
    """What an app's backend does: sign a user-data JWT with the application's secret key."""
    return subprocess.run(
        [mmserver, "jwt", "--kid", key_id, "--secret", secret, "--application-code", app_code, "--sub", sub,
         f"--lifetime={lifetime}"],
        capture_output=True, text=True, check=True).stdout.strip()


def main():
    mmcore, mmserver = build()
    demo = Demo()
    state_dir = tempfile.mkdtemp(prefix="mmcore-quickstart-")

    with LocalServer(mmserver) as server:
        app_code, key_id, secret = server.create_application("JWT_ONLY")
        say(f"mmserver is up at {server.url}: application {app_code} set to JWT_ONLY, key {key_id}", "2")
        say(f"(configuration page: {server.url}/config#token={server.admin_token})", "2")

        provider_calls = []

        def token_provider(params):
            """The wrapper side of `requestUserDataJwt`: ask the app's backend for a fresh token."""
            provider_calls.append(params)
            return mint(mmserver, key_id, secret, app_code, params.get("externalUserId") or "ada", 300)

        with MMCore([mmcore, "--state-dir", state_dir], on_line=show_line, token_provider=token_provider) as core:
            demo.step("init: the core answers at once; registration runs in the background")
            result = core.call("init", [{"applicationCode": app_code, "backendBaseURL": server.url,
                                         "requestTimeoutSeconds": 10}])
            demo.check(result is None, "init answered null")
            push_id = core.wait_event("registrationUpdated")
            demo.check(isinstance(push_id, str) and push_id != "", f"registrationUpdated event: {push_id}")

            demo.step("saveUser with no token: the server requires a JWT for user data")
            demo.expect_error(lambda: core.call("saveUser", [{"firstName": "Ada"}]), "ACCESS_TOKEN_MISSING")

            demo.step("the app's backend mints a token for 'ada'; the app hands it to the core")
            token = mint(mmserver, key_id, secret, app_code, "ada", 300)
            demo.check(core.call("setUserDataJwt", [token]) is None, "setUserDataJwt answered null")

            demo.step("personalize: this installation now belongs to the person 'ada'")
            user = core.call("personalize", [{"userIdentity": {"externalUserId": "ada"},
                                              "userAttributes": {"firstName": "Ada"}}])
            demo.check(user.get("externalUserId") == "ada", "personalized as ada")

            demo.step("saveUser and fetchUser with the token")
            user = core.call("saveUser", [{"lastName": "Lovelace", "emails": ["ada@example.com"],
                                           "customAttributes": {"plan": "gold"}}])
            demo.check(user.get("lastName") == "Lovelace" and "ada@example.com" in user.get("emails", []),
                       "the server holds the saved fields")
            fetched = core.call("fetchUser", [])
            demo.check(fetched.get("firstName") == "Ada" and fetched.get("lastName") == "Lovelace",
                       "fetchUser returns the person from the server")

            demo.step("an expired token is refused by the core itself: no request is sent")
            seq_before = len(server.request_log())
            expired = mint(mmserver, key_id, secret, app_code, "ada", -60)
            core.call("setUserDataJwt", [expired])
            demo.expect_error(lambda: core.call("saveUser", [{"middleName": "King"}]), "JWT_TOKEN_EXPIRED")

            demo.step("a malformed token is refused the same way")
            core.call("setUserDataJwt", ["not-a-jwt"])
            demo.expect_error(lambda: core.call("fetchUser", []), "JWT_TOKEN_STRUCTURE_INVALID")
            time.sleep(0.2)
            demo.check(len(server.request_log()) == seq_before, "the server received no request for either call")

            demo.step("opt in to the token provider: the core asks the wrapper for a fresh token")
            core.call("init", [{"applicationCode": app_code, "backendBaseURL": server.url,
                                "requestTimeoutSeconds": 10, "userDataJwtProvider": True}])
            core.call("setUserDataJwt", [expired])
            user = core.call("saveUser", [{"middleName": "King"}])
            demo.check(provider_calls and provider_calls[-1].get("reason") == "expired",
                       f"the core sent requestUserDataJwt {provider_calls[-1] if provider_calls else '(none)'}")
            demo.check(user.get("middleName") == "King", "the call went through with the fresh token")

            demo.step("the inbox: a message put into ada's inbox, fetched with her token, marked seen")
            _, put = server.admin("POST", f"/admin/applications/{app_code}/inbox/ada",
                                  {"title": "Welcome", "body": "Hello, Ada", "topic": "news"})
            message_id = (put or {}).get("messageId")
            inbox_token = mint(mmserver, key_id, secret, app_code, "ada", 300)
            page = core.call("fetchInboxMessages", [inbox_token, "ada", {"topic": "news"}])
            demo.check(page.get("countUnread") == 1 and [m.get("messageId") for m in page.get("messages", [])] == [message_id],
                       f"fetched 1 unread message ({message_id}) with the inbox token")
            demo.check(core.call("setInboxMessagesSeen", ["ada", [message_id]]) == [message_id], "marked seen")
            page = core.call("fetchInboxMessages", [inbox_token, "ada", None])
            demo.check(page.get("countUnread") == 0, "the server counts it seen")
            bobs = mint(mmserver, key_id, secret, app_code, "bob", 300)
            demo.expect_error(lambda: core.call("fetchInboxMessages", [bobs, "ada", None]), "JWT_TOKEN_SUBJECT_MISMATCH")

            demo.step("submitEvent: one event of each property kind, on disk before the answer, sent in a batch")
            event = {"definitionId": "purchase", "properties": {
                "item": "book", "price": 12.5, "gift": True,
                "deliveredOn": "2024-03-01",            # a calendar date: sent as 2024-03-01T00:00:00Z
                "paidAt": "2020-02-26T09:41:57Z",       # a date with a time: sent as written
                "lines": [{"sku": "b-1", "count": 1}],  # a list of objects
            }}
            demo.check(core.call("submitEvent", [event]) is None, "submitEvent answered null")
            with open(os.path.join(state_dir, "events.json"), encoding="utf-8") as held:
                demo.check(len(json.load(held)["events"]) == 1, "the event is in events.json, stamped with the time of the call")
            time.sleep(3)  # the quiet period (2 s) after the last event
            sent = [r for r in server.request_log() if r.get("path", "").endswith("/user/events/custom")]
            demo.check(len(sent) == 1, f"one batch went to the Mobile API (HTTP {sent[-1].get('status') if sent else '-'})")
            demo.expect_error(lambda: core.call("submitEvent", [{"definitionId": "purchase", "properties": {"coupon": None}}]),
                              "INVALID_PARAMS")

            demo.step("submitEventImmediately: sent now, validated by the server")
            try:
                core.call("submitEventImmediately", [{"definitionId": "no-such-definition"}])
                demo.check(False, "an unknown definition should be refused")
            except MMCoreError as error:
                demo.check(error.data.get("httpStatus", 0) >= 400,
                           f"refused by the server: {error.data.get('code')} (HTTP {error.data.get('httpStatus')})")

            demo.step("getUser reads the local copy, no network needed")
            local = core.call("getUser", [])
            demo.check(local is not None and local.get("lastName") == "Lovelace", "the saved user is kept locally")

            demo.step("close stdin: the core finishes and exits 0")
            status = core.close()
            demo.check(status == 0, f"exit status {status}")

    print()
    if demo.failures:
        say(f"{demo.failures} step(s) did not behave as shown", "31")
        return 1
    say("Every step behaved as shown.", "32")
    return 0


if __name__ == "__main__":
    sys.exit(main())
