"""Helpers shared by the browser tests: a free loopback port, Debian's Chromium, choosing in a Vuetify select."""

import shutil
import socket

import pytest

CHROMIUM = shutil.which("chromium")


def free_port():
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def require_chromium():
    """Debian's Chromium, or skip the test saying why (browsers are never downloaded)."""
    if CHROMIUM is None:
        pytest.skip("no chromium on PATH: install Debian's package (apt-get install -y chromium); browsers are never downloaded")
    return CHROMIUM


def choose(page, label, option):
    """Pick `option` in the Vuetify select labelled `label` (the menu is opened again if a redraw closed it)."""
    choice = page.get_by_role("option", name=option, exact=True).filter(visible=True).first
    for _ in range(5):
        page.get_by_role("button", name=label).filter(visible=True).first.click()
        try:
            choice.click(timeout=10_000)
            return
        except Exception:  # playwright's TimeoutError: the menu did not open
            page.keyboard.press("Escape")
    pytest.fail(f"could not choose {option!r} in {label!r}")
