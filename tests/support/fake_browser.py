"""A stand-in browser for CLI tests (ESI_BROWSER): opens the URL and follows redirects."""

from __future__ import annotations

import sys

import httpx2

httpx2.get(sys.argv[1], follow_redirects=True, timeout=30)
