"""Command lines: the pure ``parse_cmdline``/``command_line`` (src/procstatus/_cmdline.py) and
``read_cmdline`` (src/procstatus/_read.py), on fake trees and on live children."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest

from helpers_live import requires_proc, spawn_renamed, spawn_zombie
from procstatus import ProcessNotFoundError, ProcfsFileError
from procstatus._cmdline import command_line, parse_cmdline
from procstatus._read import CMDLINE_LIMIT, read_cmdline


@pytest.mark.parametrize(
    ("data", "args"),
    [
        (b"", ()),
        (b"sleep\x0060\x00", ("sleep", "60")),
        (b"sh\x00-c\x00\x00", ("sh", "-c", "")),  # an empty last argument is kept
        (b"nginx: worker process", ("nginx: worker process",)),  # setproctitle, no NUL left
        (b"title\x00", ("title",)),
        (b"a\xffb\x00", ("a\udcffb",)),  # not UTF-8: one surrogate per byte
        (b"tab\there\x00new\nline\x00", ("tab\there", "new\nline")),
    ],
    ids=["empty", "plain", "empty-arg", "proctitle", "one", "not-utf8", "controls"],
)
def test_parse_cmdline(data: bytes, args: tuple[str, ...]) -> None:
    assert parse_cmdline(data) == args


@pytest.mark.parametrize(
    ("args", "text"),
    [
        ((), ""),
        (("sleep", "60"), "sleep 60"),
        (("sh", "-c", "echo  hi"), "sh -c echo  hi"),
        (("title", "", "", ""), "title"),  # padding left by a shortened title
        (("", ""), ""),
    ],
)
def test_command_line(args: tuple[str, ...], text: str) -> None:
    assert command_line(args) == text


def fake_cmdline(tmp_path: Path, data: bytes, pid: int = 42) -> Path:
    root = tmp_path / "proc"
    (root / str(pid)).mkdir(parents=True)
    (root / str(pid) / "cmdline").write_bytes(data)
    return root


def test_read_cmdline_from_a_fake_tree(tmp_path: Path) -> None:
    root = fake_cmdline(tmp_path, b"python3\x00-m\x00http.server\x00")
    assert read_cmdline(42, root) == ("python3", "-m", "http.server")
    assert read_cmdline(42, str(root)) == ("python3", "-m", "http.server")


def test_read_cmdline_of_a_missing_process(tmp_path: Path) -> None:
    root = fake_cmdline(tmp_path, b"x\x00")
    with pytest.raises(ProcessNotFoundError):
        read_cmdline(43, root)


def test_read_cmdline_is_bounded(tmp_path: Path) -> None:
    # The longest text the kernel writes is what execve(2) accepts: 6 MiB.
    root = fake_cmdline(tmp_path, b"a" * CMDLINE_LIMIT + b"\x00")
    with pytest.raises(ProcfsFileError) as raised:
        read_cmdline(42, root)
    assert raised.value.errno == errno.EFBIG
    root = fake_cmdline(tmp_path / "fits", b"a" * (CMDLINE_LIMIT - 1) + b"\x00")
    assert read_cmdline(42, root) == ("a" * (CMDLINE_LIMIT - 1),)


def test_read_cmdline_refuses_a_bad_pid(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        read_cmdline("42", tmp_path)  # type: ignore[arg-type]


@pytest.mark.live
@requires_proc
def test_live_read_cmdline_of_a_child() -> None:
    with spawn_renamed(b"ps-cmdline") as child:
        args = read_cmdline(child.pid)
    # The name changed (prctl), the command line did not.
    assert args[0] == sys.executable
    assert args[1] == "-c"
    assert args[3:] == (b"ps-cmdline".hex(), "0")


@pytest.mark.live
@requires_proc
def test_live_read_cmdline_of_a_zombie_is_empty() -> None:
    with spawn_zombie() as zombie:
        assert read_cmdline(zombie.pid) == ()


@pytest.mark.live
@requires_proc
def test_live_read_cmdline_of_a_kernel_thread_is_empty() -> None:
    assert read_cmdline(2) == ()  # kthreadd


@pytest.mark.live
@requires_proc
def test_live_read_cmdline_after_setproctitle() -> None:
    # Writing over argv[] and its last NUL is what setproctitle(3) does: the kernel
    # then shows the C string at arg_start (fs/proc/base.c get_mm_proctitle).
    # The child writes its own memory through /proc/self/mem, between arg_start
    # and arg_end (fields 48 and 49 of /proc/self/stat, man 5 proc_pid_stat).
    script = (
        "import sys\n"
        "stat = open('/proc/self/stat', 'rb').read()\n"
        "fields = stat[stat.rindex(b')') + 2 :].split()\n"
        "start, end = int(fields[45]), int(fields[46])\n"
        "title = b'worker: idle\\0'\n"
        "with open('/proc/self/mem', 'r+b', buffering=0) as mem:\n"
        "    mem.seek(start)\n"
        "    mem.write(title + b' ' * (end - start - len(title)))\n"
        "sys.stdout.write('ready\\n'); sys.stdout.flush(); sys.stdin.read()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script, "some", "arguments"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline() == b"ready\n"
            assert read_cmdline(process.pid) == ("worker: idle",)
        finally:
            process.kill()


@pytest.mark.live
@requires_proc
def test_live_read_cmdline_of_a_reaped_process() -> None:
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    with pytest.raises(ProcessNotFoundError):
        read_cmdline(process.pid)
