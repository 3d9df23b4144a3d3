"""A real terminal for the tests of the interactive commands: tmux, driven from outside.

Each :func:`terminal` is its own tmux server (``-L`` with a name of its own, no
configuration file), so the tests never touch another tmux a person or a test
runs; the server is killed when the block ends. Keys are typed with
``send-keys`` and the screen is read with ``capture-pane``, as a person types
and reads.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator

import pytest

__all__ = ["Terminal", "terminal"]

TMUX = shutil.which("tmux")


class Terminal:
    """One tmux pane running one shell command."""

    def __init__(self, server: str, width: int, height: int) -> None:
        self.server = server
        self.width = width
        self.height = height

    def tmux(self, *args: str) -> str:
        assert TMUX is not None
        result = subprocess.run(
            [TMUX, "-L", self.server, "-f", os.devnull, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return result.stdout

    def screen(self) -> list[str]:
        """The lines of the pane as shown now, trailing blanks removed."""
        return [line.rstrip() for line in self.tmux("capture-pane", "-p", "-t", "t").split("\n")]

    def send(self, *keys: str) -> None:
        """Type ``keys`` (tmux key names: ``q``, ``C-c``, ``C-z``, ``Enter``; or literal text)."""
        self.tmux("send-keys", "-t", "t", *keys)

    def shell_pid(self) -> int:
        return int(self.tmux("list-panes", "-t", "t", "-F", "#{pane_pid}").strip())

    def wait_for(self, ready: Callable[[list[str]], bool], timeout: float = 20.0) -> list[str]:
        """Poll the screen until ``ready(lines)``; the lines then."""
        deadline = time.monotonic() + timeout
        while True:
            lines = self.screen()
            if ready(lines):
                return lines
            if time.monotonic() > deadline:
                shown = "\n".join(lines)
                raise TimeoutError(f"the terminal did not show what was expected:\n{shown}")
            time.sleep(0.05)


@contextlib.contextmanager
def terminal(command: str, *, width: int = 120, height: int = 40) -> Iterator[Terminal]:
    """A detached tmux session of ``width`` x ``height`` running ``command`` under sh."""
    if TMUX is None:
        pytest.skip("tmux is not installed (scripts/test installs it with apt-get where it can)")
    pane = Terminal(f"procstatus-test-{uuid.uuid4().hex[:12]}", width, height)
    pane.tmux(
        "new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height), "sh", "-c", command
    )
    try:
        yield pane
    finally:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pane.tmux("kill-server")
