"""reset_peak and track_peak: resetting VmHWM, and the peak of one block of code.

Big allocations happen in child Pythons, so this test process stays small.
"""

from __future__ import annotations

import asyncio
import errno
import inspect
import json
import mmap
import os
import subprocess
import sys
import threading
import types
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator
from pathlib import Path
from typing import Optional

import pytest

import procstatus
from helpers_live import SYSTEM_PYTHON, run_as_nobody
from procstatus import _peak, _procfs
from procstatus._read import read_memory

MiB = 1 << 20
# Freed memory that the allocator keeps can serve part of a new block, and the
# interpreter's own RSS moves a little: sizes are compared within this much.
SLACK = 4 * MiB

# A child that peaks at 300 MB, frees it, says so and waits for its stdin to close.
# Children make memory resident the way hold_resident() below does: a fresh
# anonymous mapping, every page written, then unmapped, so RSS rises and falls by
# exactly that much whatever the allocator keeps.
HOLD_RESIDENT = """
import mmap
def hold_resident(size):
    with mmap.mmap(-1, size) as memory:
        for offset in range(0, size, mmap.PAGESIZE):
            memory[offset] = 1
"""

PEAKED_THEN_FREED = (
    HOLD_RESIDENT
    + """
import sys
hold_resident(300 << 20)
print("ready", flush=True)
sys.stdin.read()
"""
)


def _memory(pid: int) -> tuple[int, int]:
    memory = read_memory(pid)
    assert memory is not None
    assert memory.rss is not None
    assert memory.peak_rss is not None
    return memory.rss, memory.peak_rss


@pytest.fixture
def peaked_child() -> Iterator[int]:
    with subprocess.Popen(
        [sys.executable, "-c", PEAKED_THEN_FREED],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        yield child.pid  # leaving the with block closes stdin: the child ends


def test_reset_peak_brings_vmhwm_down_to_the_current_rss(peaked_child: int) -> None:
    rss, hwm = _memory(peaked_child)
    assert hwm >= 300 * MiB > rss
    procstatus.reset_peak(peaked_child)
    rss, hwm = _memory(peaked_child)
    assert hwm < 100 * MiB
    assert 0 <= hwm - rss < 4 * MiB  # reset to the current RSS, not to zero


def test_reset_peak_of_this_process() -> None:
    hold_resident(64 * MiB)
    rss, hwm = _memory(os.getpid())
    assert hwm - rss > 32 * MiB  # the 64 MiB are gone, their peak is not

    procstatus.reset_peak()

    rss, hwm = _memory(os.getpid())
    assert hwm - rss < 4 * MiB


# track_peak in a process that peaked at 200 MB before a 60 MB window.
WINDOW_AFTER_BIGGER_PEAK = (
    HOLD_RESIDENT
    + """
import json, procstatus
hold_resident(200 << 20)
with procstatus.track_peak() as window:
    hold_resident(60 << 20)
print(json.dumps([window.rss_before, window.peak_rss, window.rss_after, window.peak_increase]))
"""
)


def _run_python(code: str) -> list[int]:
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    figures: list[int] = json.loads(out)
    return figures


def test_track_peak_sees_the_window_only() -> None:
    before, peak, after, increase = _run_python(WINDOW_AFTER_BIGGER_PEAK)
    assert increase == peak - before
    assert abs(increase - 60 * MiB) < SLACK  # the 60 MB, not the 200 MB before the window
    assert peak < before + 200 * MiB
    assert after < before + 10 * MiB


def hold_resident(size: int) -> int:
    """Make ``size`` bytes resident, then give them back; returns ``size``.

    A fresh anonymous mapping with every page written: unlike ``b"x" * size``,
    it cannot land in heap pages the allocator kept resident from an earlier
    allocation (glibc raises its mmap threshold after freeing a large block).
    """
    with mmap.mmap(-1, size) as memory:
        for offset in range(0, size, mmap.PAGESIZE):
            memory[offset] = 1
    return size


def test_nested_windows_keep_their_own_peaks() -> None:
    with procstatus.track_peak() as outer:
        hold_resident(48 * MiB)
        with procstatus.track_peak() as inner:  # resets VmHWM: outer must not lose 48 MB
            hold_resident(16 * MiB)
    assert abs(inner.peak_increase - 16 * MiB) < SLACK
    assert outer.peak_increase > 48 * MiB - SLACK
    assert outer.peak_rss >= inner.peak_rss


def test_reset_peak_inside_a_window_does_not_erase_its_peak() -> None:
    with procstatus.track_peak() as window:
        hold_resident(32 * MiB)
        procstatus.reset_peak()
    assert window.peak_increase > 32 * MiB - SLACK


def _own_thread_id(tid: int, tmp_path: Path) -> tuple[Optional[int], str]:
    return tid, "/proc"


def _trailing_slash(tid: int, tmp_path: Path) -> tuple[Optional[int], str]:
    return None, "/proc/"


def _symlink_to_proc(tid: int, tmp_path: Path) -> tuple[Optional[int], str]:
    (tmp_path / "proc").symlink_to("/proc")
    return None, str(tmp_path / "proc")


@pytest.mark.parametrize(
    "target",
    [_own_thread_id, _trailing_slash, _symlink_to_proc],
    ids=["thread-id", "trailing-slash", "symlink"],
)
def test_reset_of_our_mm_by_another_name_does_not_erase_a_window_peak(
    tmp_path: Path, target: Callable[[int, Path], tuple[Optional[int], str]]
) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert thread.native_id is not None
        pid, root = target(thread.native_id, tmp_path)
        with procstatus.track_peak() as window:
            hold_resident(24 * MiB)
            procstatus.reset_peak(pid, root=root)
    finally:
        stop.set()
        thread.join()
    assert window.peak_increase > 24 * MiB - SLACK


def test_resets_of_other_processes_and_trees_are_not_ours(tmp_path: Path) -> None:
    assert not _peak._resets_own_peak(os.getppid(), "/proc")
    assert not _peak._resets_own_peak(os.getpid(), str(tmp_path))
    assert not _peak._resets_own_peak(os.getpid(), str(tmp_path / "nowhere"))


def test_decorator_measures_every_call() -> None:
    seen: list[procstatus.PeakWindow] = []

    window = procstatus.track_peak(seen.append)

    @window
    def allocate(size: int) -> int:
        return hold_resident(size)

    assert allocate(24 * MiB) == 24 * MiB
    assert allocate(8 * MiB) == 8 * MiB
    assert [abs(w.peak_increase - size) < SLACK for w, size in zip(seen, [24 * MiB, 8 * MiB])] == [
        True,
        True,
    ]  # the second call does not see the first call's peak
    assert window.peak_rss == seen[1].peak_rss  # the decorator shows the latest call
    assert allocate.__name__ == "allocate"


def test_decorated_coroutine_is_measured_while_awaited() -> None:
    seen: list[procstatus.PeakWindow] = []

    @procstatus.track_peak(seen.append)
    async def allocate(size: int) -> int:
        await asyncio.sleep(0)
        return hold_resident(size)

    coroutine = allocate(24 * MiB)
    assert seen == []  # nothing ran yet: the window opens when the body starts
    assert asyncio.run(coroutine) == 24 * MiB
    assert len(seen) == 1
    assert abs(seen[0].peak_increase - 24 * MiB) < SLACK
    assert inspect.iscoroutinefunction(allocate)
    assert allocate.__name__ == "allocate"


def test_decorated_generator_is_measured_while_iterated() -> None:
    seen: list[procstatus.PeakWindow] = []

    @procstatus.track_peak(seen.append)
    def chunks(sizes: list[int]) -> Iterator[int]:
        for size in sizes:
            received = yield hold_resident(size)
            assert received is None
        return None

    iterator = chunks([8 * MiB, 24 * MiB])
    assert seen == []
    assert list(iterator) == [8 * MiB, 24 * MiB]
    assert len(seen) == 1  # one window for the whole iteration, closed at its end
    assert abs(seen[0].peak_increase - 24 * MiB) < SLACK
    assert inspect.isgeneratorfunction(chunks)


def test_decorated_generator_passes_send_throw_and_close_through() -> None:
    seen: list[procstatus.PeakWindow] = []
    events: list[str] = []

    @procstatus.track_peak(seen.append)
    def echo() -> Generator[str, str, None]:
        received = "start"
        try:
            while True:
                try:
                    received = yield received.upper()
                except KeyError:
                    received = "thrown"
        finally:
            events.append("closed")

    generator = echo()
    assert next(generator) == "START"
    assert generator.send("hello") == "HELLO"
    assert generator.throw(KeyError("x")) == "THROWN"
    assert seen == []  # still open: the body is still running
    generator.close()
    assert events == ["closed"]
    assert len(seen) == 1  # closed early: the window closes with it


def test_decorated_async_generator_is_measured_while_iterated() -> None:
    seen: list[procstatus.PeakWindow] = []

    @procstatus.track_peak(seen.append)
    async def chunks(sizes: list[int]) -> AsyncIterator[int]:
        for size in sizes:
            await asyncio.sleep(0)
            yield hold_resident(size)

    async def consume() -> list[int]:
        return [size async for size in chunks([24 * MiB, 8 * MiB])]

    assert asyncio.run(consume()) == [24 * MiB, 8 * MiB]
    assert len(seen) == 1
    assert abs(seen[0].peak_increase - 24 * MiB) < SLACK
    assert inspect.isasyncgenfunction(chunks)


def test_decorated_async_generator_passes_asend_athrow_and_aclose_through() -> None:
    seen: list[procstatus.PeakWindow] = []
    events: list[str] = []

    @procstatus.track_peak(seen.append)
    async def echo() -> AsyncGenerator[str, str]:
        received = "start"
        try:
            while True:
                try:
                    received = yield received.upper()
                except KeyError:
                    received = "thrown"
        finally:
            events.append("closed")

    async def drive() -> list[str]:
        generator = echo()
        answers = [
            await generator.__anext__(),
            await generator.asend("hello"),
            await generator.athrow(KeyError("x")),
        ]
        assert seen == []
        await generator.aclose()
        return answers

    assert asyncio.run(drive()) == ["START", "HELLO", "THROWN"]
    assert events == ["closed"]
    assert len(seen) == 1


def test_a_decorated_coroutine_that_raises_closes_its_window() -> None:
    seen: list[procstatus.PeakWindow] = []

    @procstatus.track_peak(seen.append)
    async def fail() -> None:
        hold_resident(8 * MiB)
        raise LookupError("in the body")

    with pytest.raises(LookupError, match="in the body"):
        asyncio.run(fail())
    assert len(seen) == 1
    assert seen[0].peak_increase > 8 * MiB - SLACK
    assert _peak._open == []


def test_figures_are_not_known_before_the_window_closes() -> None:
    window = procstatus.track_peak()
    with pytest.raises(
        RuntimeError, match=r"^PeakWindow\.peak_rss is not known: the window is not entered yet$"
    ):
        window.peak_rss  # noqa: B018
    with window, pytest.raises(RuntimeError, match=r"window is still open$"):
        window.peak_rss  # noqa: B018
    with pytest.raises(RuntimeError, match=r"^this PeakWindow is already open"), window, window:
        pass


def test_window_whose_exit_fails_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail() -> tuple[int, int]:
        raise OSError(errno.EIO, "Input/output error")

    window = procstatus.track_peak()
    with pytest.raises(OSError, match="Input/output error"), window:
        monkeypatch.setattr(_peak, "_own_memory", fail)
    monkeypatch.undo()
    assert window not in _peak._open  # later resets do not fold into it
    with pytest.raises(
        RuntimeError,
        match=r"^PeakWindow\.peak_rss is not known: the window is closed without reading VmHWM$",
    ):
        window.peak_rss  # noqa: B018
    with window:  # it can be used again
        pass
    assert window.peak_rss > 0


def test_one_window_entered_from_two_threads_at_once() -> None:
    window = procstatus.track_peak()
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def enter() -> None:
        start.wait()
        try:
            window.__enter__()
        except RuntimeError:
            outcomes.append("refused")
        else:
            outcomes.append("entered")

    threads = [threading.Thread(target=enter) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sorted(outcomes) == ["entered", "refused"]
        assert _peak._open.count(window) == 1
    finally:
        window.__exit__(None, None, None)
    assert window not in _peak._open


def test_gone_process() -> None:
    child = subprocess.Popen(["true"])
    child.wait()
    with pytest.raises(
        procstatus.ProcessNotFoundError, match=rf"^no such process: process {child.pid}$"
    ):
        procstatus.reset_peak(child.pid)


def test_another_users_process_is_not_allowed() -> None:
    code = f"""
try:
    import procstatus
except ImportError as error:
    raise SystemExit(f"cannot import: {{error}}")
try:
    procstatus.reset_peak({os.getpid()})
except PermissionError as e:
    print(type(e).__name__, e)
"""
    out = run_as_nobody([SYSTEM_PYTHON, "-c", code])
    if out.stderr.startswith("cannot import"):
        pytest.skip(f"uid 65534 {out.stderr.strip()}")
    assert out.stdout == (
        f"ProcfsPermissionError [Errno 13] not allowed to reset the peak RSS of process "
        f"{os.getpid()} (only its owner or root may write clear_refs): "
        f"'/proc/{os.getpid()}/clear_refs'\n"
    ), out.stderr


def test_unavailable_without_clear_refs(tmp_path: Path) -> None:
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "status").write_text("Name:\tx\n")
    with pytest.raises(procstatus.PeakResetUnavailableError) as caught:
        procstatus.reset_peak(42, root=tmp_path)
    assert caught.value.errno == errno.ENOENT
    assert caught.value.strerror == (
        "cannot reset the peak RSS of process 42: no clear_refs file "
        "(needs Linux 4.0 or later built with CONFIG_PROC_PAGE_MONITOR)"
    )


def test_unavailable_when_the_kernel_rejects_5(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A kernel before 4.0 answers EINVAL to "5"; stand in for one with a fake os.write.
    (tmp_path / "42").mkdir()
    (tmp_path / "42" / "clear_refs").write_text("")

    def write(fd: int, data: bytes) -> int:
        raise OSError(errno.EINVAL, "Invalid argument")

    fake_os = types.ModuleType("os")
    fake_os.__dict__.update(os.__dict__)
    fake_os.write = write  # type: ignore[attr-defined]
    monkeypatch.setattr(_procfs, "os", fake_os)
    with pytest.raises(procstatus.PeakResetUnavailableError, match="the kernel rejects '5'"):
        procstatus.reset_peak(42, root=tmp_path)


def test_track_peak_refuses_to_start_where_the_reset_is_unavailable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / str(os.getpid())).mkdir()
    monkeypatch.setattr(_peak, "_PROC", str(tmp_path))
    with pytest.raises(procstatus.PeakResetUnavailableError), procstatus.track_peak():
        pytest.fail("the block must not run")


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(procstatus.ProcfsNotFoundError):
        procstatus.reset_peak(1, root=tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("make", "code", "reason"),
    [
        (lambda root: None, errno.ENOENT, "proc root does not exist"),
        (lambda root: root.write_text(""), errno.ENOTDIR, "proc root is not a directory"),
        (
            lambda root: root.mkdir(),
            errno.ENOENT,
            "proc root holds no process directories (is procfs mounted there?)",
        ),
    ],
    ids=["missing", "regular-file", "empty-directory"],
)
def test_roots_that_are_not_a_procfs(
    tmp_path: Path, make: Callable[[Path], object], code: int, reason: str
) -> None:
    # The same errors as the read functions give for these roots.
    root = tmp_path / "root"
    make(root)
    with pytest.raises(procstatus.ProcfsNotFoundError) as caught:
        procstatus.reset_peak(42, root=root)
    assert (caught.value.errno, caught.value.strerror, caught.value.filename) == (
        code,
        reason,
        str(root),
    )
    with pytest.raises(procstatus.ProcfsNotFoundError) as read:
        procstatus.read_pid(42, root=root)
    assert read.value.strerror == reason


def test_process_missing_from_a_fake_tree(tmp_path: Path) -> None:
    (tmp_path / "1").mkdir()
    with pytest.raises(procstatus.ProcessNotFoundError, match=r"^no such process: process 42$"):
        procstatus.reset_peak(42, root=tmp_path)


@pytest.mark.parametrize(
    ("pid", "error"),
    [("1/../self", TypeError), (1.0, TypeError), (True, TypeError), (-1, ValueError)],
    ids=["path-text", "float", "bool", "negative"],
)
def test_reset_peak_refuses_what_is_not_a_pid(pid: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        procstatus.reset_peak(pid)  # type: ignore[arg-type]
