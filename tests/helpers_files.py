"""Files the tests read that are not in the package, and what a test does without them.

Two kinds: the read-only material beside the checkout (``../shared``: the corpus
of 60 real status texts and the field reference; ``$PROCSTATUS_SHARED`` points
elsewhere, as scripts/test does for the tests it runs from an unpacked sdist),
and the project's own files that the wheel does not install (``scripts/``,
``benchmarks/``, ``docs/``; the sdist has them).

One decision, here: a test that needs a missing file is skipped, saying which
file, except under CI (``CI=true``), where it fails: there, a skip would mean
the strongest tests silently did not run.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

__all__ = [
    "CORPUS_DIR",
    "IN_CI",
    "PROJECT_DIR",
    "REFERENCE",
    "SHARED_DIR",
    "load_script",
    "require",
]

#: The checkout (or unpacked sdist) these tests belong to.
PROJECT_DIR = Path(__file__).resolve().parents[1]

#: Read-only material beside the checkout (CI has it too).
SHARED_DIR = Path(os.environ.get("PROCSTATUS_SHARED") or PROJECT_DIR.parent / "shared")

#: The real captures, 60 files.
CORPUS_DIR = SHARED_DIR / "corpus" / "status"

#: The field table built from kernel sources, which _fields.py must agree with.
REFERENCE = SHARED_DIR / "reference" / "status_fields.json"

#: Whether this is a CI run: the variable GitHub Actions, GitLab CI and others set.
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")


def require(path: Path, *, module_level: bool = False) -> Path:
    """``path`` when it exists; otherwise skip the test, or fail it under CI.

    ``module_level=True`` for a call at the top of a test module, which then
    skips (or fails) as a whole.
    """
    if path.exists():
        return path
    message = f"{path} is not there (see tests/helpers_files.py)"
    if IN_CI:
        pytest.fail(f"{message}; under CI=true the tests that need it must run", pytrace=False)
    pytest.skip(message, allow_module_level=module_level)


def load_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` imported as a module (skipped, or failed under CI, without it).

    Its folder goes on ``sys.path`` as ``python scripts/<name>.py`` puts it
    there, so that it finds its sibling modules (scripts/_generated.py).
    """
    path = require(PROJECT_DIR / "scripts" / f"{name}.py")
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
