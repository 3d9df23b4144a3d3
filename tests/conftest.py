"""Fixtures shared by several test modules.

Plain helpers live in the ``helpers_*`` modules; only what pytest injects by
name is here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers_cli import make_fake_root
from helpers_live import spawn_renamed


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """A proc tree of four processes and one kernel thread (pid 2: no memory lines)."""
    return make_fake_root(tmp_path)


@pytest.fixture
def child() -> Iterator[int]:
    """The pid of a child asleep on stdin, named ps-cli-test (its status stays still)."""
    with spawn_renamed(b"ps-cli-test") as process:
        yield process.pid
