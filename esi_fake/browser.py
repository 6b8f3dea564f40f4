"""A stand-in browser for demos and tests on a machine without one: `python -m esi_fake.browser URL`
opens the URL and follows redirects, as a user approving the fake SSO's login would."""

from __future__ import annotations

import sys

import httpx2


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m esi_fake.browser URL", file=sys.stderr)
        return 2
    response = httpx2.get(argv[0], follow_redirects=True, timeout=30)
    return 0 if response.status_code < 400 else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
