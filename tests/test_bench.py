"""benchmarks/bench.py still runs: once, in quick mode (no timing is asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_runs_and_prints_the_table() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "raw read" in done.stdout
    assert "read_pid vs raw read" in done.stdout
    assert "import procstatus vs import attrs" in done.stdout
    for line in done.stdout.splitlines():
        if line.startswith("read_memory vs psutil"):
            assert line.endswith(("PASS", "MISS", "SKIPPED (no psutil)")), line
