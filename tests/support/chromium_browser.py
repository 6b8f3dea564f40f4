"""ESI_BROWSER for the browser test: headless Debian Chromium, driven by Playwright, opens the
fake SSO's authorize page, clicks Authorize, and waits for the loopback callback's page."""

from __future__ import annotations

import sys

from playwright.sync_api import sync_playwright

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main(url: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.goto(url)
        page.click("#approve")
        page.wait_for_selector("text=Logged in", timeout=30_000)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1])
