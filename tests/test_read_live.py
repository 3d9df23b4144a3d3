"""Reading real processes on this machine: self, renamed children, zombies, threads,
kernel threads, stopped processes, hidepid mounts, and a scan under process churn.

Every value is checked against an independent source: what the child reports
about itself, or the raw bytes read with plain open() (helpers_live.raw_field).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers_live import (
    COMM_MAX,
    NOBODY_ENV,
    SYSTEM_PYTHON,
    as_nobody,
    kb_field,
    raw_field,
    raw_status,
    requires_proc,
    set_comm,
    spawn_renamed,
    spawn_zombie,
    wait_for_state,
    world_readable_dir,
)
from procstatus import (
    ProcessNotFoundError,
    ProcStatus,
    iter_processes,
    read_memory,
    read_pid,
    read_task,
    thread_ids,
)
from procstatus._read import ScanError

pytestmark = [pytest.mark.live, requires_proc]


def name_bytes(status: ProcStatus) -> bytes:
    """The name as the kernel's bytes (parse_status decodes with surrogateescape)."""
    assert status.name is not None
    return os.fsencode(status.name)


# ---- this process -------------------------------------------------------------------


def test_read_self() -> None:
    status = read_pid(os.getpid())
    assert status.pid == os.getpid()
    assert status.tgid == os.getpid()
    assert status.ppid == os.getppid()
    assert status.uid is not None
    assert status.uid.real == os.getuid()
    assert status.gid is not None
    assert status.gid.effective == os.getegid()
    assert status.state is not None
    assert status.state.letter == "R"  # it is running: it is reading its own status
    assert status.kthread in (False, None)  # None before Linux 6.4 (no Kthread line)
    assert status.threads == len(os.listdir("/proc/self/task"))
    memory = status.memory
    assert memory is not None
    assert memory.rss is not None
    assert memory.peak_rss is not None
    assert 0 < memory.rss <= memory.peak_rss


def test_read_self_with_root_as_path() -> None:
    assert read_pid(os.getpid(), Path("/proc")).pid == os.getpid()
    assert read_pid(os.getpid(), root="/proc/").pid == os.getpid()


def test_read_memory_self() -> None:
    before = raw_status(os.getpid())
    memory = read_memory(os.getpid())
    after = raw_status(os.getpid())
    assert memory is not None
    assert memory.rss is not None
    # The peak cannot go down between the two raw reads (nothing resets it here).
    # VmSize can: an allocator arena mapped and unmapped in between may leave it
    # equal to neither read, so only its unit is checked.
    assert memory.peak_rss is not None
    assert kb_field(before, b"VmHWM") <= memory.peak_rss <= kb_field(after, b"VmHWM")
    assert memory.size is not None
    assert memory.size > 0
    assert memory.size % 1024 == 0


# ---- hostile names, set with prctl(PR_SET_NAME) -------------------------------------

HOSTILE_NAMES: list[tuple[str, bytes]] = [
    ("tab-uid", b"a\tUid:\t7\t7\t7\t7"),
    ("tab-threads", b"b\tThreads:\t99"),
    ("tab-vmhwm", b"c\tVmHWM:\t9 kB"),
    ("newline-vmhwm", b"d\nVmHWM:\t9 kB"),
    ("carriage-return", b"e\rVmRSS:\t9 kB"),
    ("vertical-tab", b"f\x0bThreads:\t9"),
    ("form-feed", b"g\x0cUid:\t7"),
    ("file-separator", b"h\x1cVmHWM:\t9 kB"),
    ("group-record-separators", b"i\x1d\x1eThreads:9"),
    ("u2028-line-separator", b"j\xe2\x80\xa8VmHWM:\t9"),
    ("u0085-next-line", b"k\xc2\x85Threads:\t9"),
    ("literal-backslash-n", b"l\\nVmHWM:\t9 kB"),
    ("backslashes", b"\\\\m\\"),
    ("invalid-utf8", b"n\xff\xfe\x80\xc3("),
    ("leading-trailing-spaces", b"  o p  "),
    ("trailing-tab", b"q\t"),
    ("only-spaces", b"   "),
    ("colon-name", b"Name:\tevil"),
    ("empty", b""),
    ("too-long", b"a-name-far-longer-than-fifteen-bytes"),
]


@pytest.mark.parametrize("name", [n for _, n in HOSTILE_NAMES], ids=[i for i, _ in HOSTILE_NAMES])
def test_hostile_name_reads_back_exactly(name: bytes) -> None:
    with spawn_renamed(name, extra_threads=2) as child:
        status = read_pid(child.pid)
        memory = read_memory(child.pid)
        raw = raw_status(child.pid)  # the child is idle: its status stays still
    assert name_bytes(status) == name[:COMM_MAX]
    assert status.pid == child.pid
    assert status.uid is not None
    assert status.uid.real == child.uid
    assert status.threads == child.threads
    assert status.peak_rss == kb_field(raw, b"VmHWM")
    assert memory is not None
    assert memory.peak_rss == kb_field(raw, b"VmHWM")
    assert memory.rss == status.rss


def test_hostile_name_in_a_scan() -> None:
    name = b"x\tThreads:\t99"
    with spawn_renamed(name, extra_threads=1) as child:
        [status] = [s for s in iter_processes() if s.pid == child.pid]
    assert name_bytes(status) == name
    assert status.threads == 2


# ---- zombies and reaped processes -----------------------------------------------------


def test_zombie_then_reaped() -> None:
    with spawn_zombie() as zombie:
        status = read_pid(zombie.pid)
        assert status.state is not None
        assert (status.state.letter, status.state.meaning) == ("Z", "zombie")
        assert status.memory is None
        assert read_memory(zombie.pid) is None
        assert thread_ids(zombie.pid) == [zombie.pid]
        zombie.wait()
        for reader in (read_pid, read_memory, thread_ids):
            with pytest.raises(ProcessNotFoundError) as caught:
                reader(zombie.pid)
            assert str(caught.value) == f"no such process: process {zombie.pid}"
            assert caught.value.pid == zombie.pid


# ---- threads ------------------------------------------------------------------------


def test_thread_named_inside_the_thread() -> None:
    name = b"ps\tworker\\n"
    started = threading.Event()
    stop = threading.Event()
    tids: list[int] = []

    def work() -> None:
        set_comm(name)
        tids.append(threading.get_native_id())
        started.set()
        stop.wait()

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert started.wait(10)
        [tid] = tids
        status = read_task(os.getpid(), tid)
        assert name_bytes(status) == name
        assert (status.pid, status.tgid) == (tid, os.getpid())
        assert tid in thread_ids(os.getpid())
        assert os.getpid() in thread_ids(os.getpid())
        # /proc/<tid> is not listed but exists: read_pid gives the thread's status.
        assert read_pid(tid).name == status.name
        # The process's own name is unchanged.
        assert name_bytes(read_pid(os.getpid())) != name
    finally:
        stop.set()
        worker.join()
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{os.getpid()}/task/{tid}") and time.monotonic() < deadline:
        time.sleep(0.005)  # the thread's exit is visible a moment after join()
    with pytest.raises(ProcessNotFoundError) as caught:
        read_task(os.getpid(), tid)
    assert str(caught.value) == f"no such thread: thread {tid} of process {os.getpid()}"


# ---- kernel threads and stopped processes -------------------------------------------


def test_kthreadd() -> None:
    try:
        raw = raw_status(2)
    except OSError:
        pytest.skip("pid 2 is not visible here (another pid namespace, or hidepid)")
    if raw_field(raw, b"Name") != b"kthreadd":
        pytest.skip("pid 2 is not kthreadd here (a container's own pid namespace)")
    status = read_pid(2)
    assert status.name == "kthreadd"
    assert status.ppid == 0
    if b"\nKthread:" in raw:  # Linux 6.4 and later
        assert status.kthread is True
    assert status.memory is None
    assert read_memory(2) is None


def test_stopped_process() -> None:
    with spawn_renamed(b"stop-me") as child:
        os.kill(child.pid, signal.SIGSTOP)
        wait_for_state(child.pid, b"T")
        status = read_pid(child.pid)
        assert status.state is not None
        assert (status.state.letter, status.state.meaning) == ("T", "stopped")
        assert status.memory is not None


# ---- hidepid: a procfs of our own, in a private mount namespace ----------------------

UNSHARE = shutil.which("unshare")

READ_PID_1 = """
import json, sys
try:
    import procstatus
except ImportError as error:
    print(json.dumps({"import": str(error)}))
    raise SystemExit(0)
try:
    procstatus.read_pid(1, sys.argv[1])
except OSError as error:
    print(json.dumps({"type": type(error).__name__, "str": str(error), "errno": error.errno,
                      "permission": isinstance(error, PermissionError)}))
else:
    print(json.dumps({"type": None}))
"""

# Mounts a procfs on $1 in the private mount namespace, then runs the rest of
# its arguments (the uid 65534 reader) there; 77 says the mount itself failed.
MOUNT_THEN_RUN = 'mount -t proc -o "hidepid=$HIDEPID" proc "$1" || exit 77; shift; exec "$@"'


def read_pid_1_under_hidepid(option: str) -> dict[str, object]:
    """read_pid(1) by uid 65534 through a procfs mounted with ``hidepid=<option>``."""
    if UNSHARE is None:
        pytest.skip("needs unshare to mount a procfs with hidepid")
    private_mounts = [UNSHARE, "--mount", "--propagation", "private"]
    probe = subprocess.run(
        [*private_mounts, "true"], capture_output=True, text=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"cannot make a private mount namespace here: {probe.stderr.strip()[-300:]}")
    with world_readable_dir("procstatus-hidepid-") as where:
        reader = as_nobody([SYSTEM_PYTHON, "-c", READ_PID_1, str(where)])
        result = subprocess.run(
            [*private_mounts, "sh", "-c", MOUNT_THEN_RUN, "sh", str(where), *reader],
            env={**NOBODY_ENV, "HIDEPID": option},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    if result.returncode == 77:
        pytest.skip(f"cannot mount a procfs with hidepid here: {result.stderr.strip()[-300:]}")
    if result.returncode != 0:
        pytest.fail(f"the uid 65534 reader exited with {result.returncode}:\n{result.stderr}")
    answer: dict[str, object] = json.loads(result.stdout)
    if "import" in answer:
        pytest.skip(f"uid 65534 cannot import procstatus/attrs: {answer['import']}")
    answer["root"] = str(where)
    return answer


def test_hidepid_noaccess_is_a_permission_error_with_a_hint() -> None:
    answer = read_pid_1_under_hidepid("noaccess")
    where = answer.pop("root")
    assert answer == {
        "type": "ProcfsPermissionError",
        "str": (
            f"[Errno 1] Operation not permitted (procfs at {where!r} is mounted with"
            " hidepid=noaccess: only the owner of a process, users allowed to ptrace it"
            f" and the mount's gid= group may read its files): '{where}/1/status'"
        ),
        "errno": errno.EPERM,
        "permission": True,
    }


def test_hidepid_invisible_makes_the_process_gone() -> None:
    answer = read_pid_1_under_hidepid("invisible")
    answer.pop("root")
    assert answer == {
        "type": "ProcessNotFoundError",
        "str": "no such process: process 1",
        "errno": None,
        "permission": False,
    }


# ---- churn: a scan while processes start and end as fast as they can -----------------


def test_scan_under_churn() -> None:
    program = shutil.which("true") or sys.executable
    argv = [program] if program != sys.executable else [program, "-c", ""]
    stop = threading.Event()
    started: list[int] = []

    def churn() -> None:
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and not stop.is_set():
            # Not waited at once: the process is a zombie for a moment in between.
            process = subprocess.Popen(argv)
            started.append(process.pid)
            process.wait()

    errors: list[tuple[int, ScanError]] = []
    churner = threading.Thread(target=churn)
    churner.start()
    scans = 0
    try:
        while churner.is_alive() or scans == 0:
            for status in iter_processes(on_error=lambda pid, e: errors.append((pid, e))):
                assert type(status) is ProcStatus
                assert status.pid is not None
                # Ended between the scan and this read: the one clean outcome.
                with contextlib.suppress(ProcessNotFoundError):
                    read_memory(status.pid)
            scans += 1
    finally:
        stop.set()
        churner.join()
    assert errors == []  # root may read every process
    assert scans >= 2
    assert len(started) >= 10
