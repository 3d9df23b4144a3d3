"""The ``procstatus`` command, driven as a subprocess the way a person runs it.

Saved status texts and fake proc trees (``--file``, ``--root``) give exact,
machine-independent output; the live tests compare what the command prints for
real children with the raw bytes of their status files.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import procstatus
from helpers_live import (
    SYSTEM_PYTHON,
    kb_field,
    raw_field,
    raw_status,
    requires_proc,
    run_as_nobody,
    spawn_renamed,
    world_readable_dir,
)
from procstatus._cli import main
from procstatus._cli import watch as cli_watch
from procstatus._cli.watch import sparkline
from procstatus._model import Memory
from procstatus._parse import parse_memory
from procstatus._units import format_size

# Beyond PID_MAX_LIMIT (2**22, include/linux/threads.h): no process can have it.
NO_SUCH_PID = 2**22 + 1

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "100"}

SAVED = """\
Name:\tdump-example
Umask:\t0022
State:\tS (sleeping)
Tgid:\t4242
Pid:\t4242
PPid:\t1
Uid:\t1000\t1000\t1000\t1000
Groups:\t4 27
VmPeak:\t  225532 kB
VmSize:\t  225508 kB
VmHWM:\t  121620 kB
VmRSS:\t  120564 kB
RssAnon:\t  110040 kB
RssFile:\t   10524 kB
RssShmem:\t       0 kB
VmSwap:\t    1024 kB
Threads:\t3
SigCgt:\t0000000180004a02
Cpus_allowed_list:\t0-3
"""

SAVED_SUMMARY = """\
  state      S (sleeping)
  threads    3
  RSS        117.7 MiB  VmRSS
  peak RSS   118.8 MiB  VmHWM
  size       220.2 MiB  VmSize
  peak size  220.2 MiB  VmPeak
  swap         1.0 MiB  VmSwap
  RSS anon   107.5 MiB  RssAnon
  RSS file    10.3 MiB  RssFile
  RSS shmem        0 B  RssShmem
"""

SAVED_ALL_BYTES = """\
  Name:              dump-example
  Umask:             0022
  State:             S (sleeping)
  Tgid:              4242
  Pid:               4242
  PPid:              1
  Uid:               1000 1000 1000 1000
  Groups:            4 27
  VmPeak:            230944768
  VmSize:            230920192
  VmHWM:             124538880
  VmRSS:             123457536
  RssAnon:           112680960
  RssFile:           10776576
  RssShmem:          0
  VmSwap:            1048576
  Threads:           3
  SigCgt:            0000000180004a02
  Cpus_allowed_list: 0-3
"""


def procstatus_cmd(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m procstatus ARGS``; whatever happens, never a traceback."""
    result = subprocess.run(
        [sys.executable, "-m", "procstatus", *args],
        input=stdin,
        capture_output=True,
        encoding="utf-8",
        env=ENV if env is None else env,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in result.stderr
    return result


def fake_process(pid: int, name: str, *, hwm: int, rss: int, swap: int, size: int) -> str:
    """A status text with the memory lines given in kB."""
    return (
        f"Name:\t{name}\nState:\tS (sleeping)\nTgid:\t{pid}\nPid:\t{pid}\n"
        f"VmPeak:\t{size:8d} kB\nVmSize:\t{size:8d} kB\nVmHWM:\t{hwm:8d} kB\n"
        f"VmRSS:\t{rss:8d} kB\nVmSwap:\t{swap:8d} kB\nThreads:\t1\n"
    )


@pytest.fixture
def fake_root(tmp_path: Path) -> Path:
    """A proc tree of four processes and one kernel thread (pid 2: no memory lines)."""
    root = tmp_path / "proc"
    processes = {
        2: "Name:\tkthreadd\nState:\tS (sleeping)\nTgid:\t2\nPid:\t2\nThreads:\t1\n",
        10: fake_process(10, "big-peak", hwm=900_000, rss=1_000, swap=0, size=950_000),
        11: fake_process(11, "big-rss", hwm=500_000, rss=400_000, swap=10, size=600_000),
        12: fake_process(12, "swapped", hwm=2_000, rss=1_500, swap=300_000, size=400_000),
        13: fake_process(13, "huge-size", hwm=1_000, rss=900, swap=0, size=9_000_000),
    }
    for pid, text in processes.items():
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "status").write_text(text)
    return root


# ---- --file: saved status texts -------------------------------------------------------


def test_file_summary(tmp_path: Path) -> None:
    path = tmp_path / "status.txt"
    path.write_text(SAVED)
    result = procstatus_cmd("--file", str(path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"process 4242: dump-example  (from {path})\n" + SAVED_SUMMARY


def test_file_all_fields_in_bytes(tmp_path: Path) -> None:
    path = tmp_path / "status.txt"
    path.write_text(SAVED)
    result = procstatus_cmd("--all", "--bytes", "--file", str(path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == f"process 4242: dump-example  (from {path})\n" + SAVED_ALL_BYTES


def test_file_from_stdin_as_json() -> None:
    result = procstatus_cmd("--json", "--file", "-", stdin=SAVED)
    assert (result.returncode, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert document == {
        "Name": "dump-example",
        "Umask": 18,
        "State": {"letter": "S", "meaning": "sleeping"},
        "Tgid": 4242,
        "Pid": 4242,
        "PPid": 1,
        "Uid": {"real": 1000, "effective": 1000, "saved": 1000, "filesystem": 1000},
        "Groups": [4, 27],
        "VmPeak": 225532 * 1024,
        "VmSize": 225508 * 1024,
        "VmHWM": 121620 * 1024,
        "VmRSS": 120564 * 1024,
        "RssAnon": 110040 * 1024,
        "RssFile": 10524 * 1024,
        "RssShmem": 0,
        "VmSwap": 1024 * 1024,
        "Threads": 3,
        "SigCgt": "0000000180004a02",
        "Cpus_allowed_list": [0, 1, 2, 3],
    }
    assert list(document) == [line.partition(":")[0] for line in SAVED.splitlines()]
    # One field per line, values compact.
    assert result.stdout.splitlines()[:4] == [
        "{",
        '  "Name": "dump-example",',
        '  "Umask": 18,',
        '  "State": {"letter": "S", "meaning": "sleeping"},',
    ]
    assert len(result.stdout.splitlines()) == len(document) + 2


def test_several_files_as_json_are_a_list(tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("Name:\ta\nVmHWM:\t4 kB\n")
    second.write_text("Name:\tb\n")
    result = procstatus_cmd("--json", "-f", str(first), "-f", str(second))
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout) == [{"Name": "a", "VmHWM": 4096}, {"Name": "b"}]


def test_a_zombie_or_kernel_thread_has_no_memory_lines(tmp_path: Path) -> None:
    path = tmp_path / "zombie.txt"
    path.write_text("Name:\tdefunct\nState:\tZ (zombie)\nTgid:\t9\nPid:\t9\nThreads:\t1\n")
    result = procstatus_cmd("--file", str(path))
    assert result.stdout == (
        f"process 9: defunct  (from {path})\n"
        "  state    Z (zombie)\n"
        "  threads  1\n"
        "  memory   none (kernel threads and zombies have no memory lines)\n"
    )


def test_control_characters_in_a_dump_do_not_reach_the_terminal(tmp_path: Path) -> None:
    path = tmp_path / "evil.txt"
    path.write_bytes(b"Name:\tevil\x1b[2J\\\\\xff\tx\nPid:\t5\n")
    result = procstatus_cmd("--file", str(path))
    assert result.returncode == 0
    assert result.stdout.splitlines()[0] == (f"process 5: evil\\x1b[2J\\\\\\xff\\tx  (from {path})")


def test_control_characters_in_a_file_name_do_not_reach_the_terminal(tmp_path: Path) -> None:
    path = tmp_path / "dump\x1b[2J\t.txt"
    path.write_text(SAVED)
    result = procstatus_cmd("--file", str(path))
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == (
        f"process 4242: dump-example  (from {tmp_path}/dump\\x1b[2J\\t.txt)\n" + SAVED_SUMMARY
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "{path}: not a status text: it is empty"),
        (b"garbage\n", "{path}: not a status text: line 1: no ':' in the line: 'garbage'"),
    ],
    ids=["empty", "not-status"],
)
def test_a_file_that_is_not_a_status_text(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    result = procstatus_cmd("--file", str(path))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == "procstatus: " + message.format(path=path) + "\n"


def test_a_missing_file(tmp_path: Path) -> None:
    result = procstatus_cmd("--file", str(tmp_path / "nope"))
    assert (result.returncode, result.stdout) == (1, "")
    assert (
        result.stderr == f"procstatus: cannot read {tmp_path / 'nope'}: No such file or directory\n"
    )


# ---- --root: fake proc trees ------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        (None, ["big-peak", "big-rss", "swapped"]),
        ("peak", ["big-peak", "big-rss", "swapped"]),
        ("rss", ["big-rss", "swapped", "big-peak"]),
        ("swap", ["swapped", "big-rss", "big-peak"]),  # ties (0 swap) in pid order
        ("size", ["huge-size", "big-peak", "big-rss"]),
    ],
    ids=["default", "peak", "rss", "swap", "size"],
)
def test_top_sorts_and_leaves_out_kernel_threads(
    fake_root: Path, sort: str | None, order: list[str]
) -> None:
    options = [] if sort is None else ["--sort", sort]
    result = procstatus_cmd("top", "-n", "3", "--root", str(fake_root), *options)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PID", "PEAK", "RSS", "RSS", "SWAP", "SIZE", "NAME"]
    assert [line.split()[-1] for line in lines[1:]] == order


def test_top_table(fake_root: Path) -> None:
    result = procstatus_cmd("top", "--root", str(fake_root))
    assert result.stdout == (
        "PID    PEAK RSS         RSS       SWAP       SIZE  NAME\n"
        " 10   878.9 MiB  1000.0 KiB        0 B  927.7 MiB  big-peak\n"
        " 11   488.3 MiB   390.6 MiB   10.0 KiB  585.9 MiB  big-rss\n"
        " 12     2.0 MiB     1.5 MiB  293.0 MiB  390.6 MiB  swapped\n"
        " 13  1000.0 KiB   900.0 KiB        0 B    8.6 GiB  huge-size\n"
    )


def test_top_json(fake_root: Path) -> None:
    result = procstatus_cmd("top", "--json", "-n", "2", "--root", str(fake_root))
    assert (result.returncode, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert [(entry["Name"], entry["VmHWM"]) for entry in document] == [
        ("big-peak", 900_000 * 1024),
        ("big-rss", 500_000 * 1024),
    ]


@pytest.mark.parametrize("json_output", [False, True], ids=["text", "json"])
def test_top_skips_processes_that_cannot_be_read_or_parsed(
    fake_root: Path, json_output: bool
) -> None:
    options = ["--json"] if json_output else []
    expected = procstatus_cmd("top", "--root", str(fake_root), *options)
    (fake_root / "14" / "status").mkdir(parents=True)  # reading it fails with EISDIR
    (fake_root / "15").mkdir()
    (fake_root / "15" / "status").write_text("garbage\n")  # StatusParseError
    (fake_root / "16").mkdir()
    (fake_root / "16" / "status").write_text("Name:\tx\nVmRSS:\tlots\n")  # StatusParseError
    result = procstatus_cmd("top", "--root", str(fake_root), *options)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == expected.stdout
    assert len(result.stdout.splitlines()) > 4  # the four processes are all there


def test_watch_refuses_a_process_without_memory(fake_root: Path) -> None:
    result = procstatus_cmd("watch", "2", "--root", str(fake_root))
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (
        "procstatus: process 2 has no memory to watch (a kernel thread or a zombie)\n"
    )


def test_a_missing_proc_root(tmp_path: Path) -> None:
    result = procstatus_cmd("--root", str(tmp_path / "none"), "1")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"procstatus: {tmp_path / 'none'}: proc root does not exist\n"


def test_a_permission_problem_says_so() -> None:
    with world_readable_dir("procstatus-cli-") as root:
        where = str(root)
        (root / "1").mkdir(mode=0o755)
        status = root / "1" / "status"
        status.write_text("Name:\tsecret\n")
        status.chmod(0o600)
        result = run_as_nobody([SYSTEM_PYTHON, "-m", "procstatus", "--root", where, "1"])
    if "No module named" in result.stderr:
        pytest.skip(f"uid 65534 cannot import procstatus/attrs here: {result.stderr.strip()}")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"procstatus: cannot read {where}/1/status: Permission denied\n"


# ---- errors and usage --------------------------------------------------------------------


@pytest.mark.parametrize(
    "pid", [str(NO_SUCH_PID), "99999999999"], ids=["beyond-pid-max", "beyond-pid_t"]
)
@pytest.mark.parametrize("command", [[], ["show"], ["watch"]], ids=["default", "show", "watch"])
def test_unknown_pid(command: list[str], pid: str) -> None:
    result = procstatus_cmd(*command, pid)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"procstatus: no such process: {pid}\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["abc"], "argument PID: invalid PID: 'abc' (a process id is a number)"),
        (["-5"], "argument PID: invalid PID: '-5' (a process id is a number)"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["1", "--file", "x"], "give PIDs or --file, not both"),
        (
            ["--json", "top"],
            "argument PID: 'top' is a command: write it first, before any option"
            " (procstatus top ...)",
        ),
        (["top", "--sort", "pid"], "argument --sort: invalid choice: 'pid'"),
        (["top", "-n", "0"], "argument -n/--number: must be at least 1, not 0"),
        (["watch"], "the following arguments are required: PID"),
        (["watch", "1", "--interval", "0"], "argument --interval/-i: must be more than 0"),
        (["watch", "1", "--count", "x"], "argument --count/-c: not a whole number: 'x'"),
        (["run"], "give the command to run after --, e.g. procstatus run -- make -j4"),
        (["run", "--jsn", "--", "true"], "unrecognized arguments: --jsn"),
    ],
    ids=[
        "not-a-number",
        "negative",
        "unknown-option",
        "pid-and-file",
        "command-after-option",
        "top-sort",
        "top-number",
        "watch-no-pid",
        "watch-interval",
        "watch-count",
        "run-no-command",
        "run-unknown-option",
    ],
)
def test_bad_arguments_exit_2_with_usage(args: list[str], message: str) -> None:
    result = procstatus_cmd(*args)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith("usage: procstatus")
    assert re.search(r"^procstatus[a-z ]*: error: (.*)$", result.stderr, re.MULTILINE)
    assert message in result.stderr.splitlines()[-1]


@pytest.mark.parametrize(
    ("args", "prog"),
    [
        ([], "procstatus"),
        (["show", "1"], "procstatus show"),
        (["top"], "procstatus top"),
        (["watch", "1"], "procstatus watch"),
    ],
    ids=["default", "show", "top", "watch"],
)
def test_an_empty_root_is_a_usage_error(args: list[str], prog: str) -> None:
    # The library raises ValueError for root=""; that used to end as status 70.
    result = procstatus_cmd(*args, "--root", "")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(f"usage: {prog} ")
    assert result.stderr.splitlines()[-1] == (
        f"{prog}: error: argument --root: must not be empty (the default is /proc)"
    )


@pytest.mark.parametrize("command", [[], ["top"], ["watch"]], ids=["show", "top", "watch"])
def test_bytes_and_root_are_the_same_options_everywhere(command: list[str]) -> None:
    result = procstatus_cmd(*command, "--help")
    assert (result.returncode, result.stderr) == (0, "")
    text = " ".join(result.stdout.split())
    assert "--bytes, -b exact sizes in bytes instead of KiB, MiB, GiB" in text
    assert (
        "--root PATH where procfs is mounted (default: /proc); e.g. a container's proc seen"
        " from the host" in text
    )


@pytest.mark.parametrize(
    ("args", "status", "stdout", "last_stderr_line"),
    [
        (["--version"], 0, f"procstatus {procstatus.__version__}\n", None),
        (["--bogus"], 2, "", "procstatus: error: unrecognized arguments: --bogus"),
        (["1", "-f", "x"], 2, "", "procstatus: error: give PIDs or --file, not both"),
        (
            ["--root", "a\0b"],
            2,
            "",
            "procstatus: error: argument --root: must not contain a NUL character",
        ),
        (
            ["run"],
            2,
            "",
            "procstatus run: error: give the command to run after --, e.g."
            " procstatus run -- make -j4",
        ),
    ],
    ids=["version", "unknown-option", "pid-and-file", "nul-in-root", "run-no-command"],
)
def test_main_returns_argparse_status(
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    status: int,
    stdout: str,
    last_stderr_line: str | None,
) -> None:
    # main() returns the status rather than letting argparse's SystemExit out.
    assert main(args) == status
    captured = capsys.readouterr()
    assert captured.out == stdout
    if last_stderr_line is None:
        assert captured.err == ""
    else:
        assert captured.err.splitlines()[-1] == last_stderr_line


def test_watch_interrupted_before_the_first_sample_exits_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No sample, nothing to summarize: the status of an interrupted command,
    # not an internal error from min() of no values.
    def interrupted(pid: int, root: str) -> Memory:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_watch, "read_memory", interrupted)
    assert main(["watch", "1"]) == 130
    assert capsys.readouterr() == ("", "")


class FakeTime:
    """A monotonic clock that only moves when reading or sleeping, by chosen amounts."""

    def __init__(self, read_delays: dict[int, float], sleep_delays: dict[int, float]) -> None:
        self.now = 0.0
        self.reads = 0
        self.sleeps: list[float] = []
        self.read_delays = read_delays
        self.sleep_delays = sleep_delays

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds + self.sleep_delays.get(len(self.sleeps), 0.0)

    def read_memory(self, pid: int, root: str) -> Memory | None:
        self.reads += 1
        self.now += self.read_delays.get(self.reads, 0.0)
        return parse_memory("VmHWM:\t8 kB\nVmRSS:\t4 kB\n")


@pytest.mark.parametrize(
    ("read_delays", "sleep_delays", "times", "sleeps"),
    [
        ({}, {}, [0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0]),
        # Read 2 starts at 1 and ends at 6.5: samples 2 to 6 are missed, not
        # taken back to back; the next one is at 7, on the same schedule.
        ({2: 5.5}, {}, [0.0, 6.5, 7.0, 8.0], [1.0, 0.5, 1.0]),
        # Stopped (Ctrl-Z) for 100.25 s during the first sleep.
        ({}, {1: 100.25}, [0.0, 101.25, 102.0, 103.0], [1.0, 0.75, 1.0]),
    ],
    ids=["on-time", "slow-read", "stopped"],
)
def test_watch_schedule_skips_missed_samples(
    monkeypatch: pytest.MonkeyPatch,
    read_delays: dict[int, float],
    sleep_delays: dict[int, float],
    times: list[float],
    sleeps: list[float],
) -> None:
    clock = FakeTime(read_delays, sleep_delays)
    monkeypatch.setattr(cli_watch, "time", clock)
    monkeypatch.setattr(cli_watch, "read_memory", clock.read_memory)
    samples = list(itertools.islice(cli_watch._samples(1, "/proc", 1.0), 4))
    assert samples == [(4096, 8192, time) for time in times]
    assert clock.sleeps == sleeps


def test_an_internal_error_is_one_line_with_status_70() -> None:
    bug = (
        "import sys; from procstatus._cli import main, show; show.show = lambda options: 1 // 0;"
        " sys.exit(main([]))"
    )
    command = [sys.executable, "-c", bug]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert (result.returncode, result.stdout) == (70, "")
    assert result.stderr == (
        "procstatus: internal error, please report it: ZeroDivisionError:"
        " integer division or modulo by zero (PROCSTATUS_DEBUG=1 shows the traceback)\n"
    )
    debug = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, "PROCSTATUS_DEBUG": "1"},
    )
    assert debug.returncode == 1
    assert debug.stderr.startswith("Traceback")


def test_help_describes_every_command_and_the_exit_codes() -> None:
    result = procstatus_cmd("--help")
    assert (result.returncode, result.stderr) == (0, "")
    for text in (
        "procstatus top [-n N] [--sort {peak,rss,swap,size,pss,uss}]",
        "procstatus watch PID [--interval S] [--count N]",
        "procstatus tree PID [--max-rss MIB]",
        "procstatus run [--json] -- CMD [ARG ...]",
        "With no PID it shows procstatus's own status.",
        "exit status:",
        "141  the output was closed early",
    ):
        assert text in result.stdout


def test_the_console_script_is_installed() -> None:
    script = shutil.which("procstatus", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("no procstatus script beside this interpreter (package not installed)")
    result = subprocess.run(
        [script, "--version"], capture_output=True, text=True, timeout=30, check=False
    )
    assert (result.returncode, result.stdout, result.stderr) == (
        0,
        f"procstatus {procstatus.__version__}\n",
        "",
    )


def test_sparkline() -> None:
    assert sparkline([]) == ""
    assert sparkline([5, 5, 5]) == "▁▁▁"
    assert sparkline([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline([10, 20], "_#") == "_#"


# ---- live processes ----------------------------------------------------------------------


@pytest.fixture
def child() -> Iterator[int]:
    """The pid of a child asleep on stdin, named ps-cli-test (its status stays still)."""
    with spawn_renamed(b"ps-cli-test") as process:
        yield process.pid


@pytest.mark.parametrize("exact", [False, True], ids=["iec", "bytes"])
@pytest.mark.live
@requires_proc
def test_live_child_as_text(child: int, exact: bool) -> None:
    result = procstatus_cmd(str(child), *(["--bytes"] if exact else []))
    raw = raw_status(child)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"process {child}: ps-cli-test",
        "  state      S (sleeping)",
        "  threads    1",
    ]
    for label, key in [("RSS", "VmRSS"), ("peak RSS", "VmHWM"), ("size", "VmSize")]:
        size = kb_field(raw, key.encode())
        shown = str(size) if exact else format_size(size)
        assert re.search(rf"^  {label} +{re.escape(shown)}  {key}$", result.stdout, re.MULTILINE)


@pytest.mark.live
@requires_proc
def test_live_child_as_json(child: int) -> None:
    result = procstatus_cmd("--json", str(child))
    raw = raw_status(child)
    assert (result.returncode, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert document["Name"] == "ps-cli-test"
    assert document["Pid"] == child
    assert document["State"] == {"letter": "S", "meaning": "sleeping"}
    assert document["VmHWM"] == kb_field(raw, b"VmHWM")
    assert document["VmHWM"] == int(raw_field(raw, b"VmHWM").split()[0]) * 1024


@pytest.mark.live
@requires_proc
def test_live_several_with_one_missing(child: int) -> None:
    result = procstatus_cmd("--json", str(child), str(NO_SUCH_PID))
    assert result.returncode == 1
    assert result.stderr == f"procstatus: no such process: {NO_SUCH_PID}\n"
    assert [entry["Pid"] for entry in json.loads(result.stdout)] == [child]


@pytest.mark.live
@requires_proc
def test_live_no_pid_shows_itself() -> None:
    command = subprocess.Popen(
        [sys.executable, "-m", "procstatus"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
        env=ENV,
    )
    try:
        stdout, stderr = command.communicate(timeout=60)
    finally:
        if command.poll() is None:
            command.kill()
            command.communicate()
    assert (command.returncode, stderr) == (0, "")
    assert re.match(rf"process {command.pid}: python", stdout)


@pytest.mark.live
@requires_proc
def test_live_top() -> None:
    result = procstatus_cmd("top", "-n", "3", "--json")
    assert (result.returncode, result.stderr) == (0, "")
    peaks = [entry["VmHWM"] for entry in json.loads(result.stdout)]
    assert 1 <= len(peaks) <= 3
    assert peaks == sorted(peaks, reverse=True)
    text = procstatus_cmd("top", "-n", "3")
    assert text.returncode == 0
    assert text.stdout.splitlines()[0].split()[0] == "PID"


WATCH_LINE = r"\d\d:\d\d:\d\d  RSS +[0-9.]+ [KMG]i?B  peak +[0-9.]+ [KMG]i?B  [▁▂▃▄▅▆▇█]+"
WATCH_SUMMARY = (
    r"process {pid}: {count} samples? in [0-9.]+ s; RSS min [0-9.]+ [KMG]iB,"
    r" max [0-9.]+ [KMG]iB; peak RSS [0-9.]+ [KMG]iB"
)


@pytest.mark.live
@requires_proc
def test_live_watch_count(child: int) -> None:
    result = procstatus_cmd("watch", str(child), "--count", "3", "--interval", "0.05")
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    for line in lines[:3]:
        assert re.fullmatch(WATCH_LINE, line)
    assert re.fullmatch(WATCH_SUMMARY.format(pid=child, count=3), lines[3])


#: The bars ``watch`` draws when the output cannot encode the Unicode blocks.
ASCII_RAMP = "_.-:=+*#"


@pytest.mark.live
@requires_proc
def test_live_watch_ascii_output(child: int) -> None:
    env = {**ENV, "PYTHONIOENCODING": "ascii"}
    result = procstatus_cmd("watch", str(child), "-c", "2", "-i", "0.01", env=env)
    assert (result.returncode, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    for line in lines[:2]:
        line.encode("ascii")  # raises if anything else slipped through
        bars = line.rsplit("  ", 1)[1]
        assert bars, line
        assert set(bars) <= set(ASCII_RAMP), line
    # The child sleeps, so both samples are the same RSS: the lowest bar twice.
    assert lines[1].endswith("  __")


@contextlib.contextmanager
def sigint_not_ignored() -> Iterator[None]:
    """Children started in the block get SIGINT's default action, as in a terminal.

    A shell's background job (``pytest &``) ignores SIGINT; an ignored signal
    stays ignored through exec(2), and Python then leaves it so: Ctrl-C would
    never reach the command. A handler, unlike SIG_IGN, is reset by exec.
    """
    previous = signal.getsignal(signal.SIGINT)
    if previous != signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def running_watch(pid: int) -> Iterator[subprocess.Popen[str]]:
    """``procstatus watch PID`` sampling every 10 ms, from its first line on.

    Whatever the block does, the command is killed (if still running) and
    waited for when it ends, its pipes closed.
    """
    with sigint_not_ignored():
        watch = subprocess.Popen(
            [sys.executable, "-m", "procstatus", "watch", str(pid), "-i", "0.01"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            encoding="utf-8",
            env=ENV,
        )
    try:
        assert watch.stdout is not None
        assert re.fullmatch(WATCH_LINE, watch.stdout.readline().rstrip("\n"))
        yield watch
    finally:
        if watch.poll() is None:
            watch.kill()
        for stream in (watch.stdout, watch.stderr):
            if stream is not None:
                stream.close()
        watch.wait()


@pytest.mark.live
@requires_proc
def test_live_watch_ends_when_the_process_exits() -> None:
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        with running_watch(sleeper.pid) as watch:
            sleeper.kill()
            sleeper.wait()
            stdout, stderr = watch.communicate(timeout=30)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert (watch.returncode, stderr) == (0, "")
    lines = stdout.splitlines()
    assert lines[-2] == f"process {sleeper.pid} exited"
    assert re.fullmatch(WATCH_SUMMARY.format(pid=sleeper.pid, count=r"\d+"), lines[-1])


@pytest.mark.live
@requires_proc
def test_live_watch_ends_cleanly_on_ctrl_c(child: int) -> None:
    with running_watch(child) as watch:
        watch.send_signal(signal.SIGINT)
        stdout, stderr = watch.communicate(timeout=30)
    assert (watch.returncode, stderr) == (0, "")
    assert re.fullmatch(WATCH_SUMMARY.format(pid=child, count=r"\d+"), stdout.splitlines()[-1])


@pytest.mark.live
@requires_proc
def test_live_closed_output_is_quiet(child: int) -> None:
    with running_watch(child) as watch:
        assert watch.stdout is not None
        watch.stdout.close()  # like `| head -1` exiting
        assert watch.wait(timeout=30) == 141
        assert watch.stderr is not None
        assert watch.stderr.read() == ""


@pytest.mark.live
@requires_proc
def test_live_run_passes_the_exit_status_through() -> None:
    result = procstatus_cmd("run", "--json", "--", sys.executable, "-c", "raise SystemExit(3)")
    if result.returncode == 125:
        pytest.skip(f"ptrace is not allowed here: {result.stderr.strip()}")
    assert result.returncode == 3
    report = json.loads(result.stderr)
    assert (report["exit_code"], report["argv"][1:]) == (3, ["-c", "raise SystemExit(3)"])
    assert report["peak_rss"] > 0
