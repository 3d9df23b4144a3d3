"""The one procfs module (src/procstatus/_procfs.py): bounded, non-blocking reads,
the hidepid hint, and the rule that no other module builds a procfs path.

A proc root may be a container's, whose files its owner controls. What stands
where ``status`` should be is made hostile here in three ways, each of which
once hung or exhausted a reader: a link to ``/dev/zero`` (endless), a FIFO
(``open`` blocks until a writer comes) and a 10 MiB file (ten times anything a
kernel writes). Each must be a :class:`procstatus.ProcfsFileError` at once,
from every reader and from the command line, having read at most about
``STATUS_LIMIT`` bytes.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import signal
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import Optional

import pytest

import procstatus
from helpers_cli import ENV, PROCSTATUS, fake_process, procstatus_cmd
from helpers_files import PROJECT_DIR
from procstatus import ProcfsFileError, ProcStatus
from procstatus import _procfs as procfs_module
from procstatus._procfs import STATUS_LIMIT, exists, hidepid_option
from procstatus._read import ScanError

MiB = 1 << 20

#: The pid whose files are hostile in every fake root below; 1 and 3 are fine.
HOSTILE = 2

GOOD = {
    1: fake_process(1, "init", hwm=8_000, rss=4_000, swap=0, size=20_000),
    3: fake_process(3, "worker", hwm=9_000, rss=5_000, swap=0, size=30_000),
}


def make_link_to_dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def make_fifo(path: Path) -> None:
    os.mkfifo(path)


def make_ten_mib(path: Path) -> None:
    # Blank lines: a parser skips them, so only the bound stops the read.
    path.write_bytes(b"\n" * (10 * MiB))


#: How each hostile file is made, and the errno of the error it must give.
HOSTILE_FILES: dict[str, tuple[Callable[[Path], None], int]] = {
    "dev-zero": (make_link_to_dev_zero, errno.EINVAL),
    "fifo": (make_fifo, errno.EINVAL),
    "ten-mib": (make_ten_mib, errno.EFBIG),
}

#: What the error says, by errno (the strerror of ProcfsFileError).
REASONS = {
    errno.EINVAL: "not a regular file, so not a procfs file",
    errno.EFBIG: f"longer than {STATUS_LIMIT} bytes, more than the kernel writes there",
}


def hostile_root(where: Path, kind: str) -> Path:
    """Pids 1 and 3 as a kernel writes them; pid 2's status (and its thread's) is ``kind``."""
    make, _ = HOSTILE_FILES[kind]
    root = where / "proc"
    for pid, text in GOOD.items():
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "status").write_text(text)
    task = root / str(HOSTILE) / "task" / str(HOSTILE)
    task.mkdir(parents=True)
    make(root / str(HOSTILE) / "status")
    make(task / "status")
    return root


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Fail instead of hanging: a blocking ``open`` of a FIFO would never return.

    SIGALRM interrupts the system call; the handler's exception ends it. A
    generous limit: the machine is shared, and speed is not what is tested.
    """

    def expire(signum: int, frame: Optional[FrameType]) -> None:
        raise TimeoutError(f"still running after {seconds} s: it blocked")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextlib.contextmanager
def allocation_limit(limit: int) -> Iterator[None]:
    """Fail when the block's Python allocations peak above ``limit`` bytes (tracemalloc)."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"allocated up to {peak} bytes"


def expect_hostile_error(error: BaseException, path: Path, kind: str) -> None:
    _, code = HOSTILE_FILES[kind]
    assert type(error) is ProcfsFileError
    assert (error.errno, error.strerror, error.filename) == (code, REASONS[code], str(path))


# ---- the library -------------------------------------------------------------------------

#: Every reader of one process, called on the hostile pid of a root.
READERS: dict[str, Callable[[Path], object]] = {
    "read_pid": lambda root: procstatus.read_pid(HOSTILE, root),
    "read_memory": lambda root: procstatus.read_memory(HOSTILE, root),
    "read_task": lambda root: procstatus.read_task(HOSTILE, HOSTILE, root),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_FILES))
@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_hostile_status_is_an_error_at_once(tmp_path: Path, reader: str, kind: str) -> None:
    root = hostile_root(tmp_path, kind)
    status = root / "2" / ("task/2/status" if reader == "read_task" else "status")
    with deadline(30), allocation_limit(4 * MiB), pytest.raises(ProcfsFileError) as caught:
        READERS[reader](root)
    expect_hostile_error(caught.value, status, kind)


@pytest.mark.parametrize("kind", sorted(HOSTILE_FILES))
def test_iter_processes_hands_a_hostile_status_to_on_error(tmp_path: Path, kind: str) -> None:
    # Like any other error of one process: the scan goes on to the next.
    root = hostile_root(tmp_path, kind)
    errors: list[tuple[int, ScanError]] = []
    with deadline(30), allocation_limit(4 * MiB):
        found = list(
            procstatus.iter_processes(root, on_error=lambda pid, e: errors.append((pid, e)))
        )
    assert [status.pid for status in found] == [1, 3]
    assert [pid for pid, _ in errors] == [HOSTILE]
    expect_hostile_error(errors[0][1], root / "2" / "status", kind)


@pytest.mark.parametrize("kind", sorted(HOSTILE_FILES))
def test_iter_processes_raises_a_hostile_status_without_on_error(tmp_path: Path, kind: str) -> None:
    root = hostile_root(tmp_path, kind)
    found: list[ProcStatus] = []
    with deadline(30), pytest.raises(ProcfsFileError) as caught:
        found.extend(procstatus.iter_processes(root))
    assert [status.pid for status in found] == [1]
    expect_hostile_error(caught.value, root / "2" / "status", kind)


@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_reset_peak_refuses_a_clear_refs_that_is_not_a_file(tmp_path: Path, kind: str) -> None:
    # Opening a FIFO for writing without a reader fails at once with O_NONBLOCK
    # (ENXIO, fifo(7)); a device is refused after fstat, before anything is written.
    root = hostile_root(tmp_path, "ten-mib")
    make, _ = HOSTILE_FILES[kind]
    make(root / "1" / "clear_refs")
    with deadline(30), pytest.raises(ProcfsFileError) as caught:
        procstatus.reset_peak(1, root=root)
    assert (caught.value.errno, caught.value.filename) == (errno.EINVAL, f"{root}/1/clear_refs")


def test_a_socket_is_not_a_procfs_file(tmp_path: Path) -> None:
    import socket

    root = hostile_root(tmp_path, "ten-mib")
    (root / "1" / "status").unlink()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(root / "1" / "status"))  # open(2) of a socket: ENXIO
        with pytest.raises(ProcfsFileError) as caught:
            procstatus.read_pid(1, root)
    assert caught.value.errno == errno.EINVAL


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda folder: (folder / "status").write_bytes(b""), True),
        (lambda folder: None, False),
        (lambda folder: (folder / "status").symlink_to("status"), errno.ELOOP),
    ],
    ids=["there", "missing", "symlink-loop"],
)
def test_exists_says_yes_no_or_raises_what_a_read_would(
    tmp_path: Path, make: Callable[[Path], object], expected: object
) -> None:
    folder = tmp_path / "7"
    folder.mkdir()
    make(folder)
    if isinstance(expected, bool):
        assert exists(str(tmp_path), 7, "status") is expected
        return
    with pytest.raises(OSError, match="symbolic links") as caught:
        exists(str(tmp_path), 7, "status")
    assert caught.value.errno == expected


def size_text(limit: int) -> str:
    """1 MiB, 64 KiB, ...: a limit as the docs write it."""
    for unit, shift in (("MiB", 20), ("KiB", 10)):
        if limit % (1 << shift) == 0:
            return f"{limit >> shift} {unit}"
    raise AssertionError(limit)


def test_the_docs_give_every_read_bound_as_the_code_has_it() -> None:
    # One table (docs/reading.md) lists the bound of every file read under a root,
    # and the README must not claim less; each row must say what the code does.
    from procstatus._read import CMDLINE_LIMIT
    from procstatus._read_rollup import ROLLUP_LIMIT, SMAPS_LIMIT
    from procstatus._tree import _CHILDREN_LIMIT

    reading = (PROJECT_DIR / "docs" / "reading.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(): line.split("|")[3].strip()
        for line in reading.split("## Bounded reads", 1)[1].split("\n## ", 1)[0].splitlines()
        if line.startswith("| `")
    }
    assert rows == {
        "`status`": size_text(STATUS_LIMIT),
        "`smaps_rollup`": f"{size_text(ROLLUP_LIMIT)} (`ROLLUP_LIMIT`)",
        "`smaps`": f"{size_text(SMAPS_LIMIT)} (`SMAPS_LIMIT`)",
        "`task/TID/children`": size_text(_CHILDREN_LIMIT),
        "`cmdline`": size_text(CMDLINE_LIMIT),
    }
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert "read to at most\n  1 MiB" not in readme


def test_a_status_at_the_limit_is_read(tmp_path: Path) -> None:
    # The longest text a kernel can write (65536 groups of 10 digits) fits.
    groups = " ".join(["4294967294"] * 65536)
    text = f"Name:\tbig\nPid:\t7\nGroups:\t{groups} \n".encode()
    assert len(text) < STATUS_LIMIT
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "status").write_bytes(text)
    assert procstatus.read_pid(7, tmp_path).groups == (4294967294,) * 65536


def test_one_byte_over_the_limit_is_refused(tmp_path: Path) -> None:
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "status").write_bytes(b"Name:\tx\n" + b"\n" * (STATUS_LIMIT - 7))
    with pytest.raises(ProcfsFileError, match="longer than 1048576 bytes"):
        procstatus.read_pid(7, tmp_path)


# ---- the command line --------------------------------------------------------------------

#: Runs the command in this process's interpreter, then prints the VmHWM of that
#: process (its own address space: unlike ru_maxrss, it does not include the
#: size of the forked parent before exec) on a line of its own on stderr.
_MEASURED = """
import sys
from procstatus._cli import main
status = main(sys.argv[1:])
with open("/proc/self/status", "rb") as file:
    hwm = next(line for line in file if line.startswith(b"VmHWM:"))
sys.stderr.write("VmHWM " + hwm.split()[1].decode() + "\\n")
sys.exit(status)
"""


def measured(*args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """``procstatus ARGS`` in a fresh interpreter, and that process's peak RSS in bytes."""
    result = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args],
        capture_output=True,
        encoding="utf-8",
        env=ENV,
        timeout=60,  # generous: a blocked open would never end
        check=False,
    )
    *lines, last = result.stderr.splitlines()
    name, kb = last.split()
    assert name == "VmHWM"
    result.stderr = "".join(line + "\n" for line in lines)
    assert "Traceback" not in result.stderr
    return result, int(kb) * 1024


@pytest.mark.parametrize("kind", sorted(HOSTILE_FILES))
def test_show_reports_a_hostile_status(tmp_path: Path, kind: str) -> None:
    root = hostile_root(tmp_path, kind)
    baseline, usual = measured("--root", str(root), "1")
    assert baseline.returncode == 0
    result, peak = measured("--root", str(root), "1", "2", "3")
    _, code = HOSTILE_FILES[kind]
    assert result.returncode == 1
    assert result.stderr == f"procstatus: cannot read {root}/2/status: {REASONS[code]}\n"
    assert [line.split(":")[0] for line in result.stdout.splitlines() if ":" in line] == [
        "process 1",
        "process 3",
    ]
    # The bound is 1 MiB; reading on would cost 10 MiB or everything.
    assert peak < usual + 8 * MiB, (peak, usual)


@pytest.mark.parametrize("kind", sorted(HOSTILE_FILES))
def test_top_skips_a_hostile_status(tmp_path: Path, kind: str) -> None:
    root = hostile_root(tmp_path, kind)
    _, usual = measured("top", "--root", str(root), "--json", "-n", "1")
    result, peak = measured("top", "--root", str(root), "--json")
    assert (result.returncode, result.stderr) == (0, "")
    assert [entry["Pid"] for entry in json.loads(result.stdout)] == [3, 1]
    assert peak < usual + 8 * MiB, (peak, usual)


@pytest.mark.parametrize("kind", sorted(HOSTILE_FILES))
def test_watch_reports_a_hostile_status(tmp_path: Path, kind: str) -> None:
    root = hostile_root(tmp_path, kind)
    result = procstatus_cmd("watch", "2", "--root", str(root), "--count", "1")
    _, code = HOSTILE_FILES[kind]
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"procstatus: cannot read {root}/2/status: {REASONS[code]}\n"


def test_the_command_line_runs_the_package_under_test() -> None:
    # The subprocesses above import the same procstatus as this test does.
    code = "import procstatus; print(procstatus.__file__)"
    out = subprocess.run(
        [PROCSTATUS[0], "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == procstatus.__file__


# ---- one place builds procfs paths ---------------------------------------------------------

#: Text that builds a path under a proc root: f"{root}/...", f".../{pid}/...",
#: os.path.join(root, ...), Path(root) / ..., root + "/...".
_PATH_BUILDING = re.compile(
    r"""\{root\}/|/\{pid\}|\{pid\}/|\{tid\}/|os\.path\.join\(\s*root\b|Path\(\s*root\s*\)\s*/|\broot\s*\+\s*["']/"""
)


def test_no_module_but_procfs_builds_a_procfs_path() -> None:
    package = Path(procstatus.__file__).parent
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 10, modules  # the glob found the package's modules
    offenders = [
        f"{module.relative_to(package)}:{number}: {line.strip()}"
        for module in modules
        if module.name != "_procfs.py"
        for number, line in enumerate(module.read_text(encoding="utf-8").splitlines(), 1)
        if _PATH_BUILDING.search(line)
    ]
    assert offenders == []
    assert _PATH_BUILDING.search((package / "_procfs.py").read_text(encoding="utf-8"))


# ---- the hidepid hint: reading mount options -----------------------------------------

MOUNTINFO = b"""\
22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,nosuid shared:7 - sysfs sysfs rw
40 27 0:40 / /host/proc rw,relatime shared:9 master:2 - proc proc rw,hidepid=invisible,gid=4
41 27 0:41 / /old/proc rw - proc proc rw,hidepid=2
42 27 0:42 / /my\\040proc rw - proc proc rw,hidepid=noaccess
43 27 0:43 / /shadowed rw - proc proc rw,hidepid=ptraceable
44 27 0:44 / /shadowed rw - tmpfs tmpfs rw
45 27 0:45 / /not-proc rw - tmpfs tmpfs rw,hidepid=2
46 27 0:46 / /zero rw - proc proc rw,hidepid=0
47 27 0:47 / /truncated rw
"""


@pytest.mark.parametrize(
    ("mount_point", "expected"),
    [
        (b"/proc", None),
        (b"/host/proc", "invisible"),
        (b"/old/proc", "2"),
        (b"/my proc", "noaccess"),
        (b"/shadowed", None),
        (b"/not-proc", None),
        (b"/zero", None),
        (b"/truncated", None),
        (b"/nowhere", None),
    ],
    ids=[
        "no-hidepid",
        "named-value",
        "numeric-value",
        "escaped-space",
        "shadowed-by-later-mount",
        "not-procfs",
        "hidepid-off",
        "malformed-line",
        "not-mounted",
    ],
)
def test_hidepid_option_from_mountinfo(mount_point: bytes, expected: Optional[str]) -> None:
    assert hidepid_option(MOUNTINFO, mount_point) == expected


@pytest.mark.parametrize(("padding", "expected"), [(0, "invisible"), (16 << 20, None)])
def test_the_hint_reads_a_bounded_mountinfo(
    monkeypatch: pytest.MonkeyPatch, padding: int, expected: Optional[str]
) -> None:
    # Even /proc/self/mountinfo is read to a bound; beyond it there is no hint.
    text = MOUNTINFO + b"x" * padding
    monkeypatch.setattr(procfs_module, "open", lambda *args: io.BytesIO(text), raising=False)
    assert procfs_module._hidepid_of("/host/proc") == expected


# ---- files shown record by record ---------------------------------------------------------


@pytest.mark.live
def test_smaps_is_read_to_its_end_although_one_read_returns_part_of_it() -> None:
    # smaps is shown one mapping per seq_file ->show(): a 4 KiB read returns
    # only the mappings that fit, long before the end of the file.
    with open(f"/proc/{os.getpid()}/smaps", "rb") as file:
        first = os.read(file.fileno(), 4096)
    assert 0 < len(first) < 4096
    data = procstatus._procfs.read_file("/proc", os.getpid(), "smaps", limit=1 << 26)
    mappings = data.count(b"\nVmFlags:")
    # The interpreter maps far more than what fits in 4 KiB (about 15 mappings).
    assert mappings > 50
    with open(f"/proc/{os.getpid()}/maps", "rb") as maps:
        assert abs(mappings + 1 - len(maps.read().splitlines())) <= 2  # a mapping may come or go


@pytest.mark.live
def test_children_of_a_parent_with_a_thousand_children_are_all_read() -> None:
    children = []
    try:
        for _ in range(1200):  # 6 bytes or more each: well past one 4 KiB read
            pid = os.fork()
            if pid == 0:  # pragma: no cover  (the child)
                signal.pause()
                os._exit(0)
            children.append(pid)
        data = procstatus._procfs.read_file(
            "/proc", os.getpid(), "children", os.getpid(), limit=1 << 25
        )
        assert sorted(map(int, data.split())) == sorted(children)
        assert len(data) > 4096
    finally:
        for pid in children:
            os.kill(pid, signal.SIGKILL)
        for pid in children:
            os.waitpid(pid, 0)
