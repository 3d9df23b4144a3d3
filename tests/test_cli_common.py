"""What the commands share (src/procstatus/_cli/common.py): options, argument
types, messages and the escaping of text for the terminal.
"""

from __future__ import annotations

import errno
import io
import sys

import pytest

from helpers_cli import procstatus_cmd
from procstatus._cli.common import (
    OutputError,
    announce,
    guarded_streams,
    printable,
    report,
    seconds,
    shown_name_of,
)


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
    ("command", "after"),
    [(["top"], ["--count", "2"]), (["watch"], ["1"]), (["run"], ["--", "true"])],
    ids=["top", "watch", "run"],
)
@pytest.mark.parametrize("interval", ["5e-324", "0.009", "1000001", "1e308", "0", "-1", "nan"])
def test_an_interval_out_of_bounds_is_a_usage_error(
    command: list[str], after: list[str], interval: str
) -> None:
    # 5e-324 overflowed the schedule's arithmetic and 1e308 time.sleep(): status 70.
    result = procstatus_cmd(*command, f"--interval={interval}", *after)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1].endswith(
        f" must be from 0.01 to 1000000 seconds, not {interval}"
    )
    assert result.stderr.splitlines()[-1].startswith(f"procstatus {command[0]}: error: argument")


@pytest.mark.parametrize(
    ("text", "number"), [("0.01", 0.01), ("1e6", 1e6), ("1000000", 1e6), (" 2 ", 2.0)]
)
def test_intervals_within_bounds(text: str, number: float) -> None:
    assert seconds(text) == number


# ---- printable: what reaches the terminal ---------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("python3", "python3"),
        ("naïve ✓", "naïve ✓"),  # printable Unicode is left alone
        ("x\x1b[2J", "x\\x1b[2J"),  # ESC: clear the screen
        ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),  # OSC: set the window title
        ("a\tb\nc", "a\\tb\\nc"),
        ("\x9b2J", "\\x9b2J"),  # the 8-bit CSI, a C1 control
        ("rtl\u202eexe.txt", "rtl\\u202eexe.txt"),  # right-to-left override
        ("bad\udcff", "bad\\xff"),  # a byte that was not UTF-8 (surrogateescape)
        ("back\\slash", "back\\slash"),  # unchanged: the kernel's own escapes use it
    ],
    ids=["plain", "unicode", "csi", "osc", "tab-newline", "c1", "bidi", "surrogate", "backslash"],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown
    assert printable(shown) == shown  # escaping twice changes nothing


def test_report_escapes_and_writes_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    report("cannot read /tmp/\x1b[2J: gone")
    assert capsys.readouterr() == ("", "procstatus: cannot read /tmp/\\x1b[2J: gone\n")


def test_guarded_streams_escape_every_line(capsys: pytest.CaptureFixture[str]) -> None:
    with guarded_streams():
        print("line one\x1b[2J\nline\ttwo")
        print("to stderr \x07", file=sys.stderr)
    assert capsys.readouterr() == ("line one\\x1b[2J\nline\\ttwo\n", "to stderr \\x07\n")


class FailingStream(io.StringIO):
    """A text stream whose writes fail as a full disk's do."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_stdout_is_one_output_error_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdout", FailingStream())
    with guarded_streams():
        for _ in range(2):
            with pytest.raises(OutputError) as caught:
                print("data")
            assert caught.value.error.errno == errno.ENOSPC
            assert str(caught.value) == "No space left on device"


def test_a_failed_stderr_is_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stderr", FailingStream())
    with guarded_streams():
        print("lost", file=sys.stderr)
        report("lost too")


def test_a_stdout_closed_at_start_fails_on_write_only(monkeypatch: pytest.MonkeyPatch) -> None:
    # Python sets sys.stdout to None when descriptor 1 is closed at start-up.
    monkeypatch.setattr(sys, "stdout", None)
    with guarded_streams():
        sys.stdout.flush()  # nothing written: nothing lost
        with pytest.raises(OutputError) as caught:
            print("data")
    assert caught.value.error.errno == errno.EBADF
    assert sys.stdout is None  # put back


def test_announce_prints_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    with guarded_streams():
        announce("serving there", "procstatus serve")
    assert capsys.readouterr() == ("procstatus serve: serving there\n", "")


def test_announce_says_it_on_stderr_when_stdout_is_closed_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", None)
    with guarded_streams():
        announce("serving there", "procstatus serve")
        sys.stdout.flush()  # what main() does at the end: the failure was dealt with
        with pytest.raises(OutputError):
            print("the command's own output still fails")
    assert capsys.readouterr().err == (
        "procstatus serve: serving there"
        " (not written to standard output: it was closed when procstatus started)\n"
    )


def test_a_stderr_closed_at_start_is_silent(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stderr", None)
    report("nowhere to go")  # print(file=None) would have written it to stdout
    with guarded_streams():
        print("lost", file=sys.stderr)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("worker", "worker"),
        ("a\nb", "a\\nb"),  # a real newline: as the kernel writes it
        ("a\\nb", "a\\\\nb"),  # a backslash and an n: not mistaken for a newline
        ("x\x1b[2J", "x\\x1b[2J"),  # an escape sequence never reaches the terminal raw
    ],
    ids=["plain", "newline", "backslash-n", "escape"],
)
def test_shown_name_of_an_unescaped_name_is_as_unambiguous_as_the_kernel(
    name: str, shown: str
) -> None:
    assert shown_name_of(name) == shown
