"""Reading from fake proc roots built with format_status (no live processes needed)."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

import pytest

import procstatus
from helpers_live import SYSTEM_PYTHON, run_as_nobody, world_readable_dir
from procstatus import (
    ProcessNotFoundError,
    ProcfsNotFoundError,
    ProcfsPermissionError,
    ProcStatus,
    StatusParseError,
    format_status,
    iter_processes,
    parse_status,
    read_memory,
    read_pid,
    read_task,
    thread_ids,
)
from procstatus._read import ScanError

# A user process as Linux 6.x prints it (values made up for these tests).
USER_TEXT = """\
Name:\tworker
Umask:\t0022
State:\tS (sleeping)
Tgid:\t100
Ngid:\t0
Pid:\t100
PPid:\t1
TracerPid:\t0
Uid:\t1000\t1000\t1000\t1000
Gid:\t1000\t1000\t1000\t1000
FDSize:\t64
Groups:\t4 24 1000 \nNStgid:\t100
NSpid:\t100
NSpgid:\t100
NSsid:\t100
Kthread:\t0
VmPeak:\t   20480 kB
VmSize:\t   18432 kB
VmLck:\t       0 kB
VmPin:\t       0 kB
VmHWM:\t    6144 kB
VmRSS:\t    5120 kB
RssAnon:\t    1024 kB
RssFile:\t    4096 kB
RssShmem:\t       0 kB
VmData:\t    2048 kB
VmStk:\t     132 kB
VmExe:\t      20 kB
VmLib:\t    1528 kB
VmPTE:\t      48 kB
VmSwap:\t       0 kB
HugetlbPages:\t       0 kB
CoreDumping:\t0
THP_enabled:\t1
Threads:\t1
SigQ:\t0/31000
SigPnd:\t0000000000000000
ShdPnd:\t0000000000000000
SigBlk:\t0000000000000000
SigIgn:\t0000000000000000
SigCgt:\t0000000000000000
CapInh:\t0000000000000000
CapPrm:\t0000000000000000
CapEff:\t0000000000000000
CapBnd:\t000001ffffffffff
CapAmb:\t0000000000000000
NoNewPrivs:\t0
Seccomp:\t0
Cpus_allowed:\t3
Cpus_allowed_list:\t0-1
voluntary_ctxt_switches:\t10
nonvoluntary_ctxt_switches:\t2
"""

# A kernel thread: no memory lines, Kthread 1.
KTHREAD_TEXT = """\
Name:\tkthreadd
Umask:\t0000
State:\tS (sleeping)
Tgid:\t2
Ngid:\t0
Pid:\t2
PPid:\t0
TracerPid:\t0
Uid:\t0\t0\t0\t0
Gid:\t0\t0\t0\t0
FDSize:\t64
Groups:\t \nKthread:\t1
Threads:\t1
voluntary_ctxt_switches:\t300
nonvoluntary_ctxt_switches:\t4
"""

USER = parse_status(USER_TEXT)
KTHREAD = parse_status(KTHREAD_TEXT)


def write_status(root: Path, status: ProcStatus, tid: Optional[int] = None) -> Path:
    """Write ``status`` where procfs would show it: <root>/<pid>/status or the task's."""
    assert status.pid is not None
    assert status.tgid is not None
    folder = root / str(status.tgid)
    if tid is not None:
        folder = folder / "task" / str(tid)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "status"
    path.write_text(format_status(status), encoding="utf-8", errors="surrogateescape")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A fake proc root: process 100 (threads 100, 101, 1000), kthreadd, and noise."""
    write_status(tmp_path, USER)
    write_status(tmp_path, KTHREAD)
    for tid in (1000, 100, 101):
        write_status(tmp_path, USER.replace(pid=tid, name=f"worker-{tid}"), tid=tid)
    # Entries procfs also has, or that only look like pids: all must be ignored.
    for name in ("self", "sys", "0100", "\N{ARABIC-INDIC DIGIT THREE}", "99999999999"):
        (tmp_path / name).mkdir()
    (tmp_path / "100" / "task" / "notatid").mkdir()
    return tmp_path


# ---- read_pid, read_memory, read_task, thread_ids on a fake root -----------------


@pytest.mark.parametrize("as_path", [False, True], ids=["root-str", "root-path"])
def test_read_pid_from_fake_root(root: Path, as_path: bool) -> None:
    where = root if as_path else str(root)
    assert read_pid(100, where) == USER
    assert read_pid(2, root=where) == KTHREAD


def test_read_memory_from_fake_root(root: Path) -> None:
    memory = read_memory(100, root)
    assert memory == USER.memory
    assert memory is not None
    assert memory.peak_rss == 6144 * 1024
    assert memory.rss == 5120 * 1024


def test_read_memory_of_kernel_thread_is_none(root: Path) -> None:
    assert read_memory(2, root) is None


def test_read_task_from_fake_root(root: Path) -> None:
    status = read_task(100, 101, root)
    assert status.name == "worker-101"
    assert status.pid == 101
    assert status.tgid == 100


def test_thread_ids_sorted_numerically(root: Path) -> None:
    assert thread_ids(100, root) == [100, 101, 1000]


def test_status_longer_than_one_read(tmp_path: Path) -> None:
    # Thousands of supplementary groups make a status of ~25 KB: several reads.
    big = USER.replace(groups=tuple(range(5000)))
    path = write_status(tmp_path, big)
    assert path.stat().st_size > 4 * 4096
    assert read_pid(100, tmp_path) == big


def test_pid_subclass_reads_by_number(root: Path) -> None:
    class Sneaky(int):
        def __str__(self) -> str:
            return "1/../../etc"

        def __format__(self, spec: str) -> str:
            return "1/../../etc"

    assert read_pid(Sneaky(100), root) == USER


# ---- what a pid, a tid and a root may be ------------------------------------------

BAD_IDS: list[tuple[object, type[Exception], str]] = [
    ("1/../../etc", TypeError, "pid must be an int, not str"),
    ("100", TypeError, "pid must be an int, not str"),
    (b"100", TypeError, "pid must be an int, not bytes"),
    (100.0, TypeError, "pid must be an int, not float"),
    (True, TypeError, "pid must be an int, not bool"),
    (None, TypeError, "pid must be an int, not NoneType"),
    (-1, ValueError, "pid must be between 0 and 2147483647, not -1"),
    (2**31, ValueError, "pid must be between 0 and 2147483647, not 2147483648"),
    (10**5000, ValueError, "pid must be between 0 and 2147483647, not "),
]
BAD_ID_IDS = [
    "str-path",
    "str-digits",
    "bytes",
    "float",
    "bool",
    "none",
    "negative",
    "2**31",
    "huge",
]

READERS: list[Callable[..., Any]] = [
    read_pid,
    read_memory,
    thread_ids,
    lambda pid, root: read_task(pid, 100, root),
]
READER_IDS = ["read_pid", "read_memory", "thread_ids", "read_task"]


@pytest.mark.parametrize("reader", READERS, ids=READER_IDS)
@pytest.mark.parametrize(("pid", "error", "message"), BAD_IDS, ids=BAD_ID_IDS)
def test_bad_pid_is_refused_before_any_io(
    root: Path,
    reader: Callable[..., Any],
    pid: object,
    error: type[Exception],
    message: str,
) -> None:
    with pytest.raises(error) as caught:
        reader(pid, root)
    assert type(caught.value) is error
    if message.endswith("not "):  # the huge number itself is too long to spell out here
        assert str(caught.value).startswith(message)
    else:
        assert str(caught.value) == message


@pytest.mark.parametrize(("tid", "error", "message"), BAD_IDS, ids=BAD_ID_IDS)
def test_bad_tid_is_refused(root: Path, tid: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        read_task(100, tid, root)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message.replace("pid", "tid"))


@pytest.mark.parametrize(
    ("bad_root", "error", "message"),
    [
        (b"/proc", TypeError, "root must be a str or os.PathLike[str], not bytes"),
        ("", ValueError, "root must not be empty"),
        (42, TypeError, "expected str, bytes or os.PathLike object, not int"),
    ],
    ids=["bytes", "empty", "int"],
)
def test_bad_root_is_refused(bad_root: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as caught:
        read_pid(1, bad_root)  # type: ignore[arg-type]
    assert str(caught.value) == message


# ---- errors: gone processes and bad roots -----------------------------------------


def test_missing_pid_is_process_not_found(root: Path) -> None:
    with pytest.raises(ProcessNotFoundError) as caught:
        read_pid(7, root)
    assert str(caught.value) == "no such process: process 7"
    assert (caught.value.pid, caught.value.tid) == (7, None)
    assert isinstance(caught.value, ProcessLookupError)


@pytest.mark.parametrize(
    "reader",
    [read_pid, read_memory, thread_ids],
    ids=["read_pid", "read_memory", "thread_ids"],
)
def test_missing_pid_for_every_reader(root: Path, reader: Callable[[int, Path], object]) -> None:
    with pytest.raises(ProcessNotFoundError, match=r"^no such process: process 7$"):
        reader(7, root)


def test_pid_directory_without_status_is_gone(root: Path) -> None:
    (root / "55").mkdir()
    with pytest.raises(ProcessNotFoundError, match=r"^no such process: process 55$"):
        read_pid(55, root)


def test_missing_thread_names_both_ids(root: Path) -> None:
    with pytest.raises(ProcessNotFoundError) as caught:
        read_task(100, 8, root)
    assert str(caught.value) == "no such thread: thread 8 of process 100"
    assert (caught.value.pid, caught.value.tid) == (100, 8)


def test_empty_task_directory_means_gone(root: Path) -> None:
    (root / "60" / "task").mkdir(parents=True)
    with pytest.raises(ProcessNotFoundError, match=r"^no such process: process 60$"):
        thread_ids(60, root)


def test_read_failing_with_esrch_is_gone(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What procfs does when the task is reaped between open() and read().
    def vanished(fd: int, size: int) -> bytes:
        raise ProcessLookupError(errno.ESRCH, os.strerror(errno.ESRCH))

    monkeypatch.setattr(os, "read", vanished)
    with pytest.raises(ProcessNotFoundError, match=r"^no such process: process 100$"):
        read_memory(100, root)


ALL_READERS: list[Callable[[Path], object]] = [
    lambda root: read_pid(1, root),
    lambda root: read_memory(1, root),
    lambda root: read_task(1, 1, root),
    lambda root: thread_ids(1, root),
    iter_processes,
]
ALL_READER_IDS = ["read_pid", "read_memory", "read_task", "thread_ids", "iter_processes"]


@pytest.mark.parametrize("reader", ALL_READERS, ids=ALL_READER_IDS)
def test_root_that_does_not_exist(tmp_path: Path, reader: Callable[[Path], object]) -> None:
    missing = tmp_path / "no-such-dir"
    with pytest.raises(ProcfsNotFoundError) as caught:
        reader(missing)
    assert str(caught.value) == f"[Errno 2] proc root does not exist: {str(missing)!r}"
    assert caught.value.filename == str(missing)
    assert isinstance(caught.value, FileNotFoundError)


@pytest.mark.parametrize("reader", ALL_READERS, ids=ALL_READER_IDS)
def test_root_that_is_a_file(tmp_path: Path, reader: Callable[[Path], object]) -> None:
    file = tmp_path / "file"
    file.write_text("not a directory\n")
    with pytest.raises(ProcfsNotFoundError) as caught:
        reader(file)
    assert str(caught.value) == f"[Errno 20] proc root is not a directory: {str(file)!r}"


@pytest.mark.parametrize("reader", ALL_READERS, ids=ALL_READER_IDS)
def test_empty_root_is_not_a_proc_root(tmp_path: Path, reader: Callable[[Path], object]) -> None:
    # /proc as an empty directory: a container or chroot without procfs mounted.
    with pytest.raises(ProcfsNotFoundError) as caught:
        reader(tmp_path)
    assert str(caught.value) == (
        "[Errno 2] proc root holds no process directories (is procfs mounted there?): "
        f"{str(tmp_path)!r}"
    )


# ---- iter_processes ----------------------------------------------------------------


def test_iter_processes_in_pid_order(root: Path) -> None:
    assert list(iter_processes(root)) == [KTHREAD, USER]
    assert list(iter_processes(str(root))) == [KTHREAD, USER]


def test_iter_processes_skips_vanished_processes(root: Path) -> None:
    (root / "50").mkdir()  # listed, but gone by the time it is read
    assert [status.pid for status in iter_processes(root)] == [2, 100]


def deny(monkeypatch: pytest.MonkeyPatch, denied: str) -> None:
    """Make os.open fail with EACCES for one path (root ignores file modes)."""
    real_open = os.open

    def fake_open(path: str, flags: int, mode: int = 0o777) -> int:
        if path == denied:
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", fake_open)


def test_iter_processes_skips_unreadable_by_default(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deny(monkeypatch, f"{root}/2/status")
    assert list(iter_processes(root)) == [USER]


def test_iter_processes_reports_unreadable_to_on_error(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deny(monkeypatch, f"{root}/2/status")
    errors: list[tuple[int, ScanError]] = []
    found = list(iter_processes(root, on_error=lambda pid, error: errors.append((pid, error))))
    assert found == [USER]
    [(pid, error)] = errors
    assert pid == 2
    assert type(error) is ProcfsPermissionError
    assert str(error) == f"[Errno 13] Permission denied: '{root}/2/status'"


def test_iter_processes_raises_other_errors_without_on_error(root: Path) -> None:
    (root / "100" / "status").unlink()
    (root / "100" / "status").mkdir()  # not a regular file: not what procfs serves
    scan = iter_processes(root)
    assert next(scan) == KTHREAD
    with pytest.raises(procstatus.ProcfsFileError, match="not a regular file"):
        next(scan)


def test_iter_processes_passes_other_errors_to_on_error(root: Path) -> None:
    (root / "2" / "status").unlink()
    (root / "2" / "status").mkdir()
    errors: list[tuple[int, Optional[int]]] = []

    def keep_errno(pid: int, error: ScanError) -> None:
        assert isinstance(error, OSError)
        errors.append((pid, error.errno))

    found = list(iter_processes(root, on_error=keep_errno))
    assert found == [USER]
    assert errors == [(2, errno.EINVAL)]


def test_iter_processes_raises_a_damaged_text_without_on_error(root: Path) -> None:
    (root / "100" / "status").write_text("Name:\tworker\nPid:\tseven\n")
    scan = iter_processes(root)
    assert next(scan) == KTHREAD
    with pytest.raises(StatusParseError, match=r"^line 2 \(Pid\): expected a decimal number"):
        next(scan)


def test_iter_processes_passes_a_damaged_text_to_on_error(root: Path) -> None:
    (root / "2" / "status").write_text("Name:\tkthreadd\nPid:\tseven\n")
    errors: list[tuple[int, ScanError]] = []
    found = list(iter_processes(root, on_error=lambda pid, error: errors.append((pid, error))))
    assert found == [USER]
    [(pid, error)] = errors
    assert pid == 2
    assert isinstance(error, StatusParseError)
    assert (error.line, error.field) == (2, "Pid")


def test_on_error_may_stop_the_scan(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    deny(monkeypatch, f"{root}/2/status")

    def stop(pid: int, error: ScanError) -> None:
        raise error

    with pytest.raises(ProcfsPermissionError):
        list(iter_processes(root, on_error=stop))


# ---- permission: a file only its owner may read, read by another user ---------------

READ_AS_OTHER_USER = """
import json, sys
try:
    import procstatus
except ImportError as error:
    print(json.dumps({"import": str(error)}))
    raise SystemExit(0)
try:
    procstatus.read_pid(int(sys.argv[2]), sys.argv[1])
except OSError as error:
    print(json.dumps({"type": type(error).__name__, "str": str(error),
                      "errno": error.errno, "filename": error.filename,
                      "permission": isinstance(error, PermissionError)}))
else:
    print(json.dumps({"type": None}))
"""


def answer_as_nobody(code: str, *args: str) -> dict[str, object]:
    """Run ``code`` with /usr/bin/python3 as uid/gid 65534; its one JSON line, parsed.

    Skips only when that user cannot import procstatus or attrs; any other
    failure (a crash of procstatus as that user) fails the test.
    """
    result = run_as_nobody([SYSTEM_PYTHON, "-c", code, *args])
    if result.returncode != 0:
        pytest.fail(f"python as uid 65534 exited with {result.returncode}:\n{result.stderr}")
    answer: dict[str, object] = json.loads(result.stdout)
    if "import" in answer:
        pytest.skip(f"uid 65534 cannot import procstatus/attrs: {answer['import']}")
    return answer


def test_file_only_its_owner_may_read() -> None:
    # Built outside tmp_path, which uid 65534 cannot enter (see world_readable_dir).
    with world_readable_dir("procstatus-perm-") as root:
        where = str(root)
        path = write_status(root, USER)
        os.chmod(path.parent, 0o755)
        os.chmod(path, 0o600)
        answer = answer_as_nobody(READ_AS_OTHER_USER, where, "100")
    assert answer == {
        "type": "ProcfsPermissionError",
        "str": f"[Errno 13] Permission denied: '{where}/100/status'",
        "errno": errno.EACCES,
        "filename": f"{where}/100/status",
        "permission": True,
    }
