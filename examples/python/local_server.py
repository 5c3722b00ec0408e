"""Start a local mmserver and drive its admin API (standard library only)."""

import json
import secrets
import subprocess
import urllib.error
import urllib.request


class LocalServer:
    """`mmserver serve` on a free loopback port with an in-memory database."""

    def __init__(self, mmserver_path, extra_args=()):
        self.admin_token = secrets.token_hex(16)
        self.process = subprocess.Popen(
            [mmserver_path, "serve", "--port", "0", "--in-memory", "--admin-token", self.admin_token, *extra_args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http"):
            self.stop()
            raise RuntimeError(f"mmserver did not print its URL (got {self.url!r})")

    def admin(self, method, path, body=None):
        """Calls the admin API; returns (status, parsed JSON or None)."""
        return self.http(method, path, body, {"Authorization": f"Bearer {self.admin_token}"})

    def http(self, method, path, body=None, headers=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers or {})
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, (json.loads(raw) if raw else None)
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                return error.code, json.loads(raw)
            except ValueError:
                return error.code, raw.decode(errors="replace")

    def create_application(self, authorization="ALLOW_ALL"):
        """Creates an application profile with one secret key; returns (code, key_id, secret)."""
        status, app = self.admin("POST", "/admin/applications", {"userDataAuthorization": authorization})
        assert status in (200, 201), (status, app)
        status, key = self.admin("POST", f"/admin/applications/{app['code']}/keys")
        assert status in (200, 201), (status, key)
        return app["code"], key["keyId"], key["secret"]

    def request_log(self, since=0):
        status, log = self.admin("GET", f"/admin/requests?since={since}")
        assert status == 200, (status, log)
        return log

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
