"""``procstatus`` dispatch, usage errors and exit statuses (src/procstatus/_cli/main.py).

What is the same for every command: the first word chooses it, bad arguments
exit 2 with the usage, ``main()`` returns a status instead of exiting, and a bug
is one line with status 70, never a traceback; an output that cannot be
written is one line with status 1 (141 for a reader that went away).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import procstatus
from helpers_cli import NO_SUCH_PID, PROCSTATUS, procstatus_cmd, with_closed
from procstatus._cli import main


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
        (["watch"], "give the PIDs to watch, or a command after --: procstatus watch -- CMD"),
        (["watch", "1", "--interval", "0"], "argument --interval/-i: must be from 0.01 to 1000000"),
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
        "procstatus top [-n N] [--sort {peak,rss,swap,size,pss,uss}] [--user NAME|UID]",
        "procstatus watch PID [PID ...] [--interval S] [--count N]",
        "procstatus watch [options] -- CMD [ARG ...]",
        "procstatus tree PID [--max-rss MIB]",
        "procstatus run [--json] [-o FILE] [--top N] [--interval S] [--pss] [--wait-all]",
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


def test_arguments_quoted_by_argparse_are_escaped() -> None:
    # argparse quotes unknown arguments raw; the guarded stderr escapes them.
    result = procstatus_cmd("--\x1b]0;owned\x07")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        "procstatus: error: unrecognized arguments: --\\x1b]0;owned\\x07"
    )


# ---- closed and broken output streams -----------------------------------------------------

#: One invocation of each command that succeeds and writes to stdout (run: stderr).
COMMAND_LINES = {
    "show": ["--root", "{root}", "10"],
    "top": ["top", "--root", "{root}", "-n", "1"],
    "watch": ["watch", "10", "--root", "{root}", "--count", "1", "--interval", "0.01"],
    "run": ["run", "--", "sh", "-c", "exit 3"],
    "tree": ["tree", "10", "--root", "{root}"],
}

#: The commands whose output is standard output (run reports on stderr).
WRITERS = ["show", "top", "watch", "tree"]

CLOSED_STDOUT = (
    "procstatus: cannot write to standard output: it was closed when procstatus started\n"
)


def command_line(command: str, root: Path) -> list[str]:
    return [arg.format(root=root) for arg in COMMAND_LINES[command]]


@pytest.mark.parametrize("command", WRITERS)
def test_a_closed_stdout_is_one_line_and_status_1(fake_root: Path, command: str) -> None:
    result = with_closed("stdout", *command_line(command, fake_root))
    assert (result.returncode, result.stderr) == (1, CLOSED_STDOUT)


@pytest.mark.parametrize("command", WRITERS)
def test_a_closed_stderr_changes_nothing_else(fake_root: Path, command: str) -> None:
    expected = procstatus_cmd(*command_line(command, fake_root))
    result = with_closed("stderr", *command_line(command, fake_root))
    assert result.returncode == expected.returncode == 0
    if command == "watch":  # a clock time and a duration differ from run to run
        assert len(result.stdout.splitlines()) == len(expected.stdout.splitlines()) == 2
    else:
        assert result.stdout == expected.stdout


@pytest.mark.parametrize("command", WRITERS)
def test_both_closed_is_status_1(fake_root: Path, command: str) -> None:
    assert with_closed("both", *command_line(command, fake_root)).returncode == 1


@pytest.mark.parametrize("closed", ["stdout", "stderr", "both"])
def test_an_error_with_a_stream_closed(closed: str) -> None:
    # Nothing to write on stdout; the message goes to stderr when it is open.
    result = with_closed(closed, str(NO_SUCH_PID))
    assert result.returncode == 1
    if closed == "stdout":
        assert result.stderr == f"procstatus: no such process: {NO_SUCH_PID}\n"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full here")
@pytest.mark.parametrize("command", WRITERS)
def test_a_full_disk_is_one_line_and_status_1(fake_root: Path, command: str) -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [*PROCSTATUS, *command_line(command, fake_root)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    assert (result.returncode, result.stderr) == (
        1,
        "procstatus: cannot write to standard output: No space left on device\n",
    )


@pytest.mark.parametrize("closed", ["stdout", "stderr", "both"])
def test_help_with_a_stream_closed(closed: str) -> None:
    result = with_closed(closed, "--help")
    assert result.returncode == (0 if closed == "stderr" else 1)


@pytest.mark.parametrize(
    "command", [[], ["top"], ["watch"], ["run"]], ids=["show", "top", "watch", "run"]
)
def test_help_names_no_file_that_is_not_installed(command: list[str]) -> None:
    # The wheel installs no docs/: a page may be named only as part of the sdist.
    text = " ".join(procstatus_cmd(*command, "--help").stdout.split())
    for mention in re.finditer(r"docs/\S+", text):
        assert text[mention.end() :].startswith(" in the source distribution"), mention[0]
