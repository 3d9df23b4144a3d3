"""Draw the chart of docs/cli.md with ``procstatus run --plot``: a small command tree whose
memory grows steadily, saw-tooths and spikes once, the three shapes a plot is for.

    python scripts/make_docs_plot.py [OUTPUT]    (default: docs/images/run-plot.svg)

The command is ``sh workload.sh``, which runs three workers at once: ``grow.py``
grows by 4 MiB every 0.1 s, six ``job.py`` of 20 to 70 MiB run one after the
other, and ``spike.py`` holds 150 MiB for 0.3 s. The files are written to a
temporary directory, where the command runs. Its figures change a little from
run to run (RSS is sampled); the shape does not, and the SVG has no date in it.
Needs matplotlib (``pip install "procstatus[plot]"``) and ptrace (root, or Yama
ptrace_scope 0 or 1).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "docs" / "images" / "run-plot.svg"

# Each worker touches every page it allocates, so that RSS really grows.
FILES = {
    "grow.py": (
        "import time\n"
        "blocks = []\n"
        "for _ in range(20):\n"
        "    block = bytearray(4 << 20)\n"
        "    block[::4096] = b'x' * len(block[::4096])\n"
        "    blocks.append(block)\n"
        "    time.sleep(0.1)\n"
    ),
    "job.py": (
        "import sys, time\n"
        "block = bytearray(int(sys.argv[1]) << 20)\n"
        "block[::4096] = b'x' * len(block[::4096])\n"
        "time.sleep(0.25)\n"
    ),
    "spike.py": (
        "import time\n"
        "time.sleep(0.8)\n"
        "block = bytearray(150 << 20)\n"
        "block[::4096] = b'x' * len(block[::4096])\n"
        "time.sleep(0.3)\n"
    ),
    "workload.sh": (
        '"$PYTHON" grow.py &\n'
        'for size in 20 30 40 50 60 70; do "$PYTHON" job.py $size; done &\n'
        '"$PYTHON" spike.py\n'
        "wait\n"
    ),
}


def main(argv: list[str]) -> int:
    output = (Path(argv[0]) if argv else DEFAULT_OUTPUT).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="procstatus-plot-") as where:
        for name, text in FILES.items():
            (Path(where) / name).write_text(text)
        run = [sys.executable, "-m", "procstatus", "run", "--plot", str(output)]
        status = subprocess.run(
            [*run, "--", "sh", "workload.sh"],
            cwd=where,
            env={**os.environ, "PYTHON": sys.executable},
            check=False,
        ).returncode
    if status != 0:
        print(f"make_docs_plot: procstatus run exited with {status}", file=sys.stderr)
        return status
    print(f"wrote {output} ({output.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
