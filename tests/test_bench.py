"""benchmarks/bench.py still runs: once, in quick mode (no timing is asserted here).

What is checked is the shape of its report: every target row is printed with a
ratio and a verdict, and no row is skipped when psutil can be imported (and, as
root, the scan with a process of 65,536 groups is made).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from types import ModuleType

import pytest

from helpers_files import PROJECT_DIR, require

BENCH = PROJECT_DIR / "benchmarks" / "bench.py"

HAVE_PSUTIL = importlib.util.find_spec("psutil") is not None
IS_ROOT = os.geteuid() == 0


def load_bench(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """benchmarks/bench.py as a module, for its TARGETS (it is not a package)."""
    monkeypatch.setattr(sys, "path", list(sys.path))  # it puts src/ first: undone after
    spec = importlib.util.spec_from_file_location("procstatus_bench", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_quick_benchmark_runs_and_prints_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    require(BENCH)
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "raw read" in done.stdout
    assert "read_pid vs raw read" in done.stdout
    assert "import procstatus vs import attrs" in done.stdout
    lines = done.stdout.splitlines()
    targets = load_bench(monkeypatch).TARGETS
    assert targets
    for target in targets:
        rows = [line for line in lines if line.startswith(f"{target.what} ")]
        assert len(rows) == 1, (target.what, done.stdout)
        [row] = rows
        measured = rf"{re.escape(target.what)} +\d+\.\d\dx +{target.limit:.1f}x  (PASS|MISS)"
        why = r"\((no psutil|not root)\)"
        skipped = rf"{re.escape(target.what)} +- +{target.limit:.1f}x  SKIPPED {why}"
        needs_psutil = "psutil" in target.against
        needs_root = "65,536" in target.what
        if (HAVE_PSUTIL or not needs_psutil) and (IS_ROOT or not needs_root):
            assert re.fullmatch(measured, row), row
        else:
            assert re.fullmatch(f"{measured}|{skipped}", row), row
    if HAVE_PSUTIL and IS_ROOT:
        assert "SKIPPED" not in done.stdout
    bench = load_bench(monkeypatch)
    tracing = rf"{re.escape(bench.TRACE_WHAT)} +\d+\.\d\dx +{bench.TRACE_LIMIT:.1f}x  (PASS|MISS)"
    assert [line for line in lines if re.fullmatch(tracing, line)], done.stdout
    for line in lines:
        if line.startswith("read_memory vs psutil"):
            assert line.endswith(("PASS", "MISS", "SKIPPED (no psutil)")), line
