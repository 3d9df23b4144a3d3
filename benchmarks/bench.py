"""Benchmark procstatus against the raw read of the file and against psutil (issues 6 and 10).

Run from the repository: ``python benchmarks/bench.py`` (full: a few minutes),
``python benchmarks/bench.py --quick`` (a few rounds, for CI). psutil is optional
(``pip install -e .[bench]``); without it the psutil rows and their targets are
skipped. Every figure is the median over rounds; the jobs of one round run one
after the other, so machine noise falls on all of them alike, and only the
ratios of one run are compared: absolute times differ between runs.

The rows are what users do: read a process and look at a few fields, its memory,
all of it as JSON, sample its memory while it changes, scan every process. The
last section scans the machine with and without a process that has 65,536
supplementary groups (NGROUPS_MAX), the largest status text a kernel writes;
making one needs root (setgroups), so without root that section is skipped.
"""

from __future__ import annotations

import argparse
import importlib
import mmap
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import NamedTuple, Optional

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

import procstatus  # noqa: E402  (after the path set-up, to bench this checkout)

STATUS = "/proc/self/status"
PSUTIL_ATTRS = ["memory_info", "status", "uids", "gids", "num_ctx_switches", "num_threads"]
#: NGROUPS_MAX (include/uapi/linux/limits.h): the most groups a process can have.
MANY_GROUPS = 65536

SCAN_WITH = "scan, a 65,536-group process present"
SCAN_WITHOUT = "scan, without it"


class Job(NamedTuple):
    name: str
    run: Callable[[], object]


class Target(NamedTuple):
    what: str
    job: str
    against: str
    limit: float


# ---- shared memory (issue 12): read_rollup against psutil, and its cost per GiB ------------

ROLLUP_TARGETS = [
    Target(
        "read_rollup vs psutil memory_full_info",
        "read_rollup",
        "psutil memory_full_info",
        0.8,
    ),
]

#: The child of the cost-per-GiB measurement: maps and touches SIZE bytes of private
#: anonymous memory, reports, then waits on stdin.
_TOUCH = """
import mmap, sys
size = int(sys.argv[1])
region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
page = b"\\x01" * mmap.PAGESIZE
for offset in range(0, size, mmap.PAGESIZE):
    region[offset : offset + mmap.PAGESIZE] = page
sys.stdout.write("ready\\n")
sys.stdout.flush()
sys.stdin.read()
"""


def rollup_jobs(psutil: Optional[ModuleType], small_pid: int) -> list[Job]:
    """read_rollup and psutil's memory_full_info() on the same processes.

    The target compares them on a small idle process (``small_pid``, a sleep),
    where what the libraries add shows; on this interpreter (about 30 MiB of
    RSS) the kernel's page-table walk, the same for both, takes most of the time.
    """
    pid = os.getpid()
    jobs = [
        Job("read_rollup", lambda: procstatus.read_rollup(small_pid)),
        Job("read_rollup, this process", lambda: procstatus.read_rollup(pid)),
    ]
    if psutil is not None:
        jobs += [
            Job("psutil memory_full_info", psutil.Process(small_pid).memory_full_info),
            Job("psutil memory_full_info, this process", psutil.Process(pid).memory_full_info),
        ]
    return jobs


def rollup_cost_per_gib(size: int, rounds: int) -> tuple[float, float, float]:
    """Seconds per GiB of RSS that read_rollup costs, from two children (median times).

    One child has ``size`` bytes touched, the other only an interpreter; the
    difference of their read times over the difference of their RSS is the cost
    of the page-table walk per GiB. Returns (per GiB, small child, large child).
    """
    children = [_touching_child(mmap.PAGESIZE), _touching_child(size)]
    try:
        pids = [child.pid for child in children]
        samples: list[list[float]] = [[], []]
        for _ in range(rounds):
            for index, pid in enumerate(pids):  # interleaved
                start = time.perf_counter()
                procstatus.read_rollup(pid)
                samples[index].append(time.perf_counter() - start)
        small, large = (statistics.median(values) for values in samples)
        rss = [_rss(procstatus.read_rollup(pid)) for pid in pids]
        gib = (rss[1] - rss[0]) / 2**30
    finally:
        for child in children:
            child.kill()
            child.wait()
    return (large - small) / gib, small, large


def _rss(rollup: Optional[procstatus.Rollup]) -> int:
    return 0 if rollup is None or rollup.rss is None else rollup.rss


def _touching_child(size: int) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", _TOUCH, str(size)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    if child.stdout.readline() != "ready\n":
        raise RuntimeError(f"the {size}-byte child failed: {child.wait()}")
    return child


TARGETS = [
    # Issue 10: what users do.
    Target("read_pid vs raw read", "read_pid", "raw read", 2.5),
    Target(
        "read_pid(pid).memory vs psutil memory_info",
        "read_pid(pid).memory",
        "psutil memory_info",
        1.0,
    ),
    Target("read_pid + 5 fields vs raw read", "read_pid + 5 fields", "raw read", 3.5),
    Target(
        "to_json_dict(read_pid) vs psutil oneshot",
        "to_json_dict(read_pid(pid))",
        "psutil oneshot",
        0.6,
    ),
    Target(
        "read_memory changing vs psutil memory_info",
        "read_memory, values changing",
        "psutil memory_info, values changing",
        1.2,
    ),
    Target("scan with 65,536 groups vs without", SCAN_WITH, SCAN_WITHOUT, 1.5),
    # Issue 6.
    Target("read_pid vs psutil oneshot", "read_pid", "psutil oneshot", 0.5),
    Target("read_memory vs psutil memory_info", "read_memory", "psutil memory_info", 1.0),
    Target("iter_processes vs psutil process_iter", "iter_processes", "psutil process_iter", 0.5),
    Target("import procstatus vs import attrs", "import procstatus", "import attrs", 1.3),
    Target("parse_status 10x text vs 1x", "parse_status 10x", "parse_status typical", 11.0),
    *ROLLUP_TARGETS,
]


# ---- run_command: a traced tree against the same tree untraced (issue 11) -----------------

#: A shell loop that forks and executes /bin/true ``n`` times: each one a vfork, an
#: exec and an exit, every one of them a stop of the traced tree.
TRACE_LOOP = "i=0; while [ $i -lt {n} ]; do /bin/true; i=$((i + 1)); done"
TRACE_WHAT = "run_command traced vs untraced"
TRACE_LIMIT = 1.5


def tracing_overhead(loops: int, rounds: int) -> tuple[float, float, float]:
    """(ratio, untraced seconds, traced seconds) of the loop of ``loops`` /bin/true.

    Each side also runs the loop 0 times, and that start-up (starting sh; for
    run_command also the fork of this process and the tracer's set-up) is taken
    off, so the ratio is that of the loops alone. The four runs of a round are
    interleaved; each figure is a median over rounds.
    """
    samples: dict[tuple[str, int], list[float]] = {
        (side, n): [] for side in ("untraced", "traced") for n in (0, loops)
    }
    for _ in range(rounds):
        for n in (0, loops):
            argv = ["sh", "-c", TRACE_LOOP.format(n=n)]
            start = time.perf_counter()
            subprocess.run(argv, check=True)
            samples["untraced", n].append(time.perf_counter() - start)
            start = time.perf_counter()
            result = procstatus.run_command(argv)
            samples["traced", n].append(time.perf_counter() - start)
            if result.exit_code != 0 or len(result.processes) != n + 1:
                raise RuntimeError(f"the traced loop went wrong: {result}")
    medians = {key: statistics.median(values) for key, values in samples.items()}
    untraced = medians["untraced", loops] - medians["untraced", 0]
    traced = medians["traced", loops] - medians["traced", 0]
    return traced / untraced, untraced, traced


def render_tracing(loops: int, ratio: float, untraced: float, traced: float) -> tuple[str, bool]:
    met = ratio <= TRACE_LIMIT
    return (
        f"run_command on a shell loop of {loops} x /bin/true (start-up taken off):"
        f" untraced {show(untraced).strip()}, traced {show(traced).strip()}\n"
        f"{TRACE_WHAT:40} {ratio:6.2f}x {TRACE_LIMIT:6.1f}x  {'PASS' if met else 'MISS'}"
    ), met


def raw_read(path: str = STATUS) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        data = os.read(fd, 1 << 20)
        while True:
            more = os.read(fd, 1 << 20)
            if not more:
                return data
            data += more
    finally:
        os.close(fd)


def with_groups(text: bytes, count: int) -> bytes:
    """The text with its Groups line replaced by ``count`` groups (as 4.9+ prints them)."""
    groups = b"".join(b"%d " % (1000 + number) for number in range(count))
    head, _, rest = text.partition(b"\nGroups:")
    _, _, tail = rest.partition(b"\n")
    return head + b"\nGroups:\t" + groups + b"\n" + tail


def ten_times(text: bytes) -> bytes:
    """A text ten times as long, of the same shape: the Groups line takes the extra length."""
    count = 0
    grown = text
    while len(grown) < 10 * len(text):
        count += 50
        grown = with_groups(text, count)
    return grown


def _vary_rss(text: bytes) -> bytes:
    # The same text with VmRSS one kB higher: defeats parse_memory's reuse of the last Memory.
    head, _, rest = text.partition(b"\nVmRSS:")
    value, _, tail = rest.partition(b" kB\n")
    return head + b"\nVmRSS:\t" + b"%8d" % (int(value) + 1) + b" kB\n" + tail


def sleeper(groups: int = 0) -> subprocess.Popen[bytes]:
    """A child process that sleeps (with ``groups`` supplementary groups) until killed."""
    code = (
        "import os, sys, time\n"
        f"if {groups}: os.setgroups(range(1000, 1000 + {groups}))\n"
        "sys.stdout.write('ready\\n'); sys.stdout.flush(); time.sleep(3600)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert child.stdout is not None
    if child.stdout.readline() != b"ready\n":
        child.wait()
        raise RuntimeError("the child process did not start")
    return child


def stop(child: subprocess.Popen[bytes]) -> None:
    """Kill a child this benchmark started, by its pid, and reap it."""
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    if child.stdout is not None:
        child.stdout.close()


def local_jobs(other: int) -> list[Job]:
    """procstatus' jobs; ``other`` is a second process, read in turn with this one."""
    pid = os.getpid()
    typical = raw_read()
    large = with_groups(typical, 300)
    big = ten_times(typical)
    changing = [typical, _vary_rss(typical)]
    turn = [0]
    pids = [pid, other]

    def parse_changing() -> object:
        turn[0] ^= 1
        return procstatus.parse_memory(changing[turn[0]])

    def read_memory_changing() -> object:
        # Two processes in turn: the memory lines differ at every read, as in a
        # sampling loop over a process whose memory moves.
        turn[0] ^= 1
        return procstatus.read_memory(pids[turn[0]])

    def read_pid_and_fields() -> object:
        status = procstatus.read_pid(pid)
        return (status.name, status.rss, status.peak_rss, status.uid, status.state)

    return [
        Job("raw read", raw_read),
        Job("parse_status typical", lambda: procstatus.parse_status(typical)),
        Job("parse_status large", lambda: procstatus.parse_status(large)),
        Job("parse_status 10x", lambda: procstatus.parse_status(big)),
        Job("parse_memory typical", lambda: procstatus.parse_memory(typical)),
        Job("parse_memory, values changing", parse_changing),
        Job("read_pid", lambda: procstatus.read_pid(pid)),
        Job("read_pid(pid).memory", lambda: procstatus.read_pid(pid).memory),
        Job("read_pid + 5 fields", read_pid_and_fields),
        Job(
            "to_json_dict(read_pid(pid))", lambda: procstatus.to_json_dict(procstatus.read_pid(pid))
        ),
        Job("read_memory", lambda: procstatus.read_memory(pid)),
        Job("read_memory, values changing", read_memory_changing),
        Job("iter_processes", lambda: list(procstatus.iter_processes())),
    ]


def psutil_jobs(psutil: ModuleType, other: int) -> list[Job]:
    reused = psutil.Process()
    both = [reused, psutil.Process(other)]
    turn = [0]

    def oneshot() -> object:
        process = psutil.Process()
        with process.oneshot():
            return (
                process.memory_info(),
                process.status(),
                process.uids(),
                process.gids(),
                process.num_ctx_switches(),
                process.num_threads(),
            )

    def memory_info_changing() -> object:
        turn[0] ^= 1
        return both[turn[0]].memory_info()

    return [
        Job("psutil oneshot", oneshot),
        Job("psutil memory_info", reused.memory_info),
        Job("psutil memory_info, values changing", memory_info_changing),
        Job("psutil process_iter", lambda: list(psutil.process_iter(PSUTIL_ATTRS))),
    ]


def calibrate(job: Job, seconds: float) -> int:
    """How many calls take at least ``seconds``."""
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            job.run()
        if time.perf_counter() - start >= seconds or number >= 1 << 20:
            return number
        number *= 2


def time_jobs(jobs: list[Job], rounds: int, seconds: float) -> dict[str, float]:
    numbers = {job.name: calibrate(job, seconds) for job in jobs}
    samples: dict[str, list[float]] = {job.name: [] for job in jobs}
    for _ in range(rounds):
        for job in jobs:  # interleaved: a noisy moment hits every job, not just one
            number = numbers[job.name]
            run = job.run
            start = time.perf_counter()
            for _ in range(number):
                run()
            samples[job.name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(values) for name, values in samples.items()}


def time_scans(rounds: int, scans: int) -> dict[str, float]:
    """Scans with and without a 65,536-group process, alternating round by round.

    Each round starts the process, times ``scans`` scans, kills it, and times as
    many without it. Also timed while it runs: the raw read of its status (the
    kernel's part: it prints 65,536 numbers, several times over while the seq_file
    buffer grows) and procstatus' parse of that text.
    """
    samples: dict[str, list[float]] = {
        SCAN_WITH: [],
        SCAN_WITHOUT: [],
        "raw read, 65,536-group status": [],
        "parse_status, 65,536-group status": [],
    }

    def timed(name: str, run: Callable[[], object]) -> None:
        start = time.perf_counter()
        for _ in range(scans):
            run()
        samples[name].append((time.perf_counter() - start) / scans)

    for _ in range(rounds):
        child = sleeper(MANY_GROUPS)
        try:
            path = f"/proc/{child.pid}/status"
            data = raw_read(path)
            timed(SCAN_WITH, lambda: list(procstatus.iter_processes()))
            timed("raw read, 65,536-group status", partial(raw_read, path))
            timed("parse_status, 65,536-group status", partial(procstatus.parse_status, data))
        finally:
            stop(child)
        timed(SCAN_WITHOUT, lambda: list(procstatus.iter_processes()))
    return {name: statistics.median(values) for name, values in samples.items()}


def time_imports(runs: int) -> dict[str, float]:
    """Wall time of a fresh interpreter importing each module, median over runs.

    Byte code goes to a private cache directory (PYTHONPYCACHEPREFIX), filled by
    a first run, so both sides load compiled modules as an installed package does.
    """
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, PYTHONPYCACHEPREFIX=cache, PYTHONPATH=str(ROOT / "src"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        commands = {
            "import procstatus": [sys.executable, "-c", "import procstatus"],
            "import attrs": [sys.executable, "-c", "import attrs"],
            "python -c pass": [sys.executable, "-c", "pass"],
        }
        for command in commands.values():
            subprocess.run(command, env=env, check=True)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, env=env, check=True)
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def load_psutil() -> Optional[ModuleType]:
    try:
        return importlib.import_module("psutil")
    except ImportError:
        return None


def show(seconds: float) -> str:
    if seconds >= 1e-3:
        return f"{seconds * 1e3:9.2f} ms"
    return f"{seconds * 1e6:9.2f} us"


def render(medians: dict[str, float], psutil: Optional[ModuleType]) -> tuple[str, bool]:
    floor = medians["raw read"]
    lines = [f"{'job':40} {'median':>12} {'x raw read':>11}", "-" * 65]
    for name, seconds in medians.items():
        lines.append(f"{name:40} {show(seconds)} {seconds / floor:10.2f}x")
    lines += ["", f"{'target':44} {'ratio':>7} {'limit':>7}  result", "-" * 70]
    all_met = True
    for target in TARGETS:
        if target.job not in medians or target.against not in medians:
            why = "not root" if target.job == SCAN_WITH else "no psutil"
            lines.append(f"{target.what:44} {'-':>7} {target.limit:6.1f}x  SKIPPED ({why})")
            continue
        ratio = medians[target.job] / medians[target.against]
        met = ratio <= target.limit
        all_met = all_met and met
        result = "PASS" if met else "MISS"
        lines.append(f"{target.what:44} {ratio:6.2f}x {target.limit:6.1f}x  {result}")
    if psutil is None:
        lines.append(
            "psutil is not installed: its rows and targets were skipped (pip install .[bench])"
        )
    if SCAN_WITH not in medians:
        lines.append("not root: the 65,536-group process (setgroups) and its rows were skipped")
    return "\n".join(lines), all_met


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"Linux {platform.release()}, {cpu}, {os.cpu_count()} CPUs"
    )


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few short rounds (for CI)")
    args = parser.parse_args(argv)
    rounds, seconds, import_runs, scan_rounds, scans = (
        (3, 0.005, 3, 2, 2) if args.quick else (21, 0.05, 40, 15, 5)
    )

    psutil = load_psutil()
    other = sleeper()
    idle = subprocess.Popen(["sleep", "3600"])  # the small idle process of rollup_jobs
    try:
        jobs = local_jobs(other.pid) + (
            psutil_jobs(psutil, other.pid) if psutil is not None else []
        )
        jobs += rollup_jobs(psutil, idle.pid)
        for job in jobs:
            job.run()  # warm up: parse_status and parse_memory learn the shapes of this machine
            job.run()
        print(machine())
        if psutil is not None:
            print(f"psutil {psutil.__version__}")
        print(f"{'quick' if args.quick else 'full'} mode: {rounds} rounds\n")
        medians = time_jobs(jobs, rounds, seconds)
    finally:
        stop(other)
    if os.geteuid() == 0:
        medians.update(time_scans(scan_rounds, scans))
    medians.update(time_imports(import_runs))
    table, all_met = render(medians, psutil)
    print(table)
    size = (256 if args.quick else 1024) << 20
    per_gib, small, large = rollup_cost_per_gib(size, 5 if args.quick else 21)
    print(
        f"\nread_rollup cost per GiB of RSS: {per_gib * 1e3:.2f} ms"
        f" (child with {size >> 20} MiB touched: {show(large)}, idle child: {show(small)})"
    )
    idle.kill()
    idle.wait()
    loops = 100 if args.quick else 500
    tracing, met = render_tracing(loops, *tracing_overhead(loops, 3 if args.quick else 15))
    print(f"\n{tracing}")
    all_met = all_met and met
    print("\nevery target met" if all_met else "\nsome targets missed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
