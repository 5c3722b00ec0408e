#!/usr/bin/env python3
"""Run a command against a fresh local Mobile API: a small automation helper.

Usage: python3 examples/python/with_local_server.py [--authorization JWT_ONLY] -- COMMAND [ARGS...]

Starts `mmserver serve` (in memory, free port), creates an application profile with the
given user-data authorization setting and one secret key, then runs COMMAND with
`--server-url URL --application-code CODE --kid KEY_ID --secret SECRET` appended and
MMCORE_BIN set to the built mmcore. Exits with the command's status and stops the server.

    python3 examples/python/with_local_server.py -- node examples/cordova/example.js
    python3 examples/python/with_local_server.py -- node examples/react-native/example.js

The executables are $MMSERVER_BIN / $MMCORE_BIN, else .build/debug/ of this package.
"""
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from local_server import LocalServer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent.parent


def main(argv):
    if "--" not in argv or argv.index("--") == len(argv) - 1:
        print(__doc__, file=sys.stderr)
        return 2
    options, command = argv[: argv.index("--")], argv[argv.index("--") + 1:]
    authorization = "JWT_ONLY"
    if options[:1] == ["--authorization"] and len(options) == 2:
        authorization = options[1]
    elif options:
        print(__doc__, file=sys.stderr)
        return 2
    mmserver = os.environ.get("MMSERVER_BIN") or str(ROOT / ".build" / "debug" / "mmserver")
    mmcore = os.environ.get("MMCORE_BIN") or str(ROOT / ".build" / "debug" / "mmcore")
    with LocalServer(mmserver) as server:
        code, key_id, secret = server.create_application(authorization)
        environment = dict(os.environ, MMCORE_BIN=mmcore)
        arguments = ["--server-url", server.url, "--application-code", code, "--kid", key_id, "--secret", secret]
        return subprocess.run(command + arguments, env=environment).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
