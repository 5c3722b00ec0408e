#!/usr/bin/env python3
"""Mint a user-data JWT the way an app's backend does, with Python's standard library only.

    python3 mint.py --kid KEY_ID --secret HEX_SECRET --application-code APP_CODE --sub EXTERNAL_USER_ID [--lifetime 60]

The key id and hex secret come from the application profile (mmserver's admin API or
configuration page). The token is printed on stdout; keep it out of logs.
"""
import argparse
import base64
import hashlib
import hmac
import json
import sys
import time
import uuid


def base64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint(kid: str, secret: str, application_code: str, sub: str, lifetime: int = 60) -> str:
    iat = int(time.time())
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    claims = {
        "typ": "Bearer",
        "sub": sub,
        "infobip-api-key": application_code,
        "iss": application_code,
        "iat": iat,
        "exp": iat + lifetime,
        "jti": str(uuid.uuid4()),
    }
    encode = lambda value: base64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))
    signing_input = encode(header) + "." + encode(claims)
    # The HMAC key is the secret's bytes (hex-decoded), not its text.
    signature = hmac.new(bytes.fromhex(secret), signing_input.encode("ascii"), hashlib.sha256).digest()
    return signing_input + "." + base64url(signature)


def main() -> int:
    parser = argparse.ArgumentParser(description="Mint a user-data JWT (HS256).")
    parser.add_argument("--kid", required=True, help="the key id of an application key")
    parser.add_argument("--secret", required=True, help="the key's secret, as hex")
    parser.add_argument("--application-code", required=True, help="the application code")
    parser.add_argument("--sub", required=True, help="the external user id")
    parser.add_argument("--lifetime", type=int, default=60, help="seconds from iat to exp")
    args = parser.parse_args()
    try:
        bytes.fromhex(args.secret)
    except ValueError:
        parser.error("--secret must be hex")
    print(mint(args.kid, args.secret, args.application_code, args.sub, args.lifetime))
    return 0


if __name__ == "__main__":
    sys.exit(main())
