"""run_command: the exact peak RSS of every process of a command's tree, and the tree's totals.

Live tests with real process trees. Big allocations happen in the commands or
in child Pythons, not in this process. ``check()`` asserts what holds for every
run (bound >= sampled >= 0, the largest process is the largest exact peak, the
command comes first), and ``no_tracee_left()`` that nothing is left traced.
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
import textwrap
import threading
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

import procstatus
from helpers_live import raw_field, raw_status, spawn_zombie
from procstatus import _run

pytestmark = pytest.mark.live

MiB = 1 << 20
PY = sys.executable


def check(result: procstatus.RunResult) -> procstatus.RunResult:
    """What every run must satisfy; returns ``result`` for chaining."""
    assert result.processes[0].pid == result.pid
    starts = [process.start_s for process in result.processes]
    assert starts == sorted(starts)
    peaks = {p.pid: p.peak_rss for p in result.processes if p.peak_rss is not None}
    assert result.peak_rss == max(peaks.values())
    assert peaks[result.peak_pid] == result.peak_rss
    assert 0 < result.tree_peak_rss_sampled <= result.tree_peak_rss_bound
    assert result.peak_rss <= result.tree_peak_rss_bound
    assert all(sample.rss_sum <= result.tree_peak_rss_bound for sample in result.samples)
    assert max(sample.rss_sum for sample in result.samples) == result.tree_peak_rss_sampled
    assert len({p.pid for p in result.processes if p.running}) == sum(
        p.running for p in result.processes
    )
    no_tracee_left()
    return result


def no_tracee_left() -> None:
    """No process on the machine is traced by this one, and this one has no zombie."""
    me = str(os.getpid()).encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = raw_status(int(entry))
        except OSError:
            continue
        assert raw_field(status, b"TracerPid") != me, f"process {entry} is still traced"
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG | _run._WALL)


def by_argv(result: procstatus.RunResult, *words: str) -> procstatus.ProcessRun:
    """The one process whose argv contains ``words`` in order."""
    found = [p for p in result.processes if _contains(p.argv, words)]
    assert len(found) == 1, [p.argv for p in result.processes]
    return found[0]


def _contains(argv: tuple[str, ...], words: tuple[str, ...]) -> bool:
    return any(argv[i : i + len(words)] == words for i in range(len(argv)))


def hold(size_mib: int, seconds: float, *, exit_code: int = 0) -> str:
    """Python code that holds ``size_mib`` MiB (written, so resident) for ``seconds``."""
    return (
        f"import os, time; data = b'x' * ({size_mib} << 20); time.sleep({seconds}); "
        f"os._exit({exit_code})"
    )


# ---- one process: what held before the tree is followed still holds ------------------


def test_peak_reached_right_before_exit_is_seen() -> None:
    code = "import os; data = b'x' * (100 << 20); os._exit(0)"
    result = check(procstatus.run_command([PY, "-c", code]))
    assert result.peak_rss >= 100 * MiB
    assert result.exit_code == 0
    assert result.peak_exact
    assert len(result.processes) == 1


# A Python parent holding 500 MB runs `true`; ru_maxrss of its children counts the
# forked copy of the parent, our figure does not.
BIG_PARENT = """
import json, resource, procstatus
hold = b"x" * (500 << 20)
result = procstatus.run_command(["true"])
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(json.dumps([result.peak_rss, result.tree_peak_rss_bound, children]))
"""


def test_short_command_is_sampled_at_its_end() -> None:
    # Shorter than one interval: the exit stop, where it is the whole tree, gives the
    # sampled figure, not the exec event before the program had run.
    result = check(procstatus.run_command(["true"]))
    assert result.peak_rss // 2 <= result.tree_peak_rss_sampled <= result.tree_peak_rss_bound


def test_parent_memory_is_not_counted() -> None:
    out = subprocess.run([PY, "-c", BIG_PARENT], check=True, capture_output=True, text=True)
    peak, bound, ru_maxrss_children = json.loads(out.stdout)
    assert peak < 20 * MiB
    assert bound < 20 * MiB
    assert ru_maxrss_children >= 500 * MiB  # what /usr/bin/time -v would have said


@pytest.mark.parametrize(
    ("code", "exit_code", "signum"),
    [
        ("pass", 0, None),
        ("raise SystemExit(3)", 3, None),
        ("import os; os.kill(os.getpid(), 9)", 137, 9),
        ("import os; os.kill(os.getpid(), 15)", 143, 15),
    ],
    ids=["success", "exit-3", "sigkill", "sigterm"],
)
def test_exit_status(code: str, exit_code: int, signum: Optional[int]) -> None:
    result = check(procstatus.run_command([PY, "-c", code]))
    assert (result.exit_code, result.signal) == (exit_code, signum)
    assert (result.processes[0].exit_code, result.processes[0].signal) == (exit_code, signum)
    assert result.peak_rss > 0


# exit_group() from a thread that is not the main thread: the last thread to reach
# its exit stop still holds the mm, and the figure is exact.
EXIT_FROM_A_THREAD = """
import os, threading, time
def work():
    data = b"x" * (100 << 20)
    os._exit(5)
threading.Thread(target=work).start()
time.sleep(60)
"""


def test_exit_from_another_thread() -> None:
    result = check(procstatus.run_command([PY, "-c", EXIT_FROM_A_THREAD]))
    assert result.exit_code == 5
    assert result.peak_rss >= 100 * MiB
    assert result.peak_exact
    assert len(result.processes) == 1  # threads are not processes


MAIN_THREAD_LEAVES_FIRST = r"""
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
static void *work(void *arg) {
    usleep(200000);
    volatile char *p = malloc(64 << 20);
    for (long i = 0; i < (64 << 20); i += 4096) p[i] = 1;
    usleep(200000);
    return arg;
}
int main(void) { pthread_t t; pthread_create(&t, 0, work, 0); pthread_exit(0); }
"""


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_main_thread_leaving_first_still_gives_the_exact_peak(tmp_path: Path) -> None:
    source = tmp_path / "leaves_first.c"
    source.write_text(MAIN_THREAD_LEAVES_FIRST)
    program = tmp_path / "leaves_first"
    subprocess.run(["cc", "-pthread", "-o", str(program), str(source)], check=True)
    result = check(procstatus.run_command([str(program)]))
    assert result.exit_code == 0
    # The worker is traced too: its own exit stop, the last of the process, reads
    # the final VmHWM with the 64 MiB in it.
    assert result.peak_rss >= 64 * MiB
    assert result.peak_exact


# ---- the tree ----------------------------------------------------------------------------


def test_grandchild_peak_under_sh() -> None:
    # The example: before, run reported the 1.7 MiB of the shell.
    code = "b = bytearray(200 << 20); b[::4096] = b'x' * len(b[::4096])"
    result = check(procstatus.run_command(["sh", "-c", f'{PY} -c "{code}"; true']))
    python = by_argv(result, PY, "-c")
    shell = result.processes[0]
    assert shell.argv[:2] == ("sh", "-c")
    assert (result.peak_pid, python.ppid) == (python.pid, shell.pid)
    assert 200 * MiB <= result.peak_rss < 260 * MiB
    assert shell.peak_rss is not None
    assert shell.peak_rss < 10 * MiB
    assert python.peak_exact
    assert shell.peak_exact
    assert result.tree_peak_rss_bound < 280 * MiB
    assert result.exit_code == 0


def test_two_children_at_once() -> None:
    # Both hold 120 MiB for three seconds (long enough to overlap on a loaded
    # machine), most of them at the same time: samples see both, and the bound
    # adds both exact peaks.
    child = f'{PY} -c "{hold(120, 3.0)}"'
    result = check(procstatus.run_command(["sh", "-c", f"{child} & {child} & wait"]))
    pythons = [p for p in result.processes if p.argv[:1] == (PY,)]
    assert len(pythons) == 2
    for python in pythons:
        assert python.peak_rss is not None
        assert 120 * MiB <= python.peak_rss < 150 * MiB
    assert 120 * MiB <= result.peak_rss < 150 * MiB
    assert 240 * MiB <= result.tree_peak_rss_sampled <= result.tree_peak_rss_bound < 300 * MiB


def test_200_short_lived_children() -> None:
    script = 'i=0; while [ $i -lt 200 ]; do sh -c "exit $((i % 5))"; i=$((i + 1)); done'
    result = check(procstatus.run_command(["sh", "-c", script]))
    children = result.processes[1:]
    assert len(children) == 200
    assert [child.exit_code for child in children] == [i % 5 for i in range(200)]
    assert all(child.ppid == result.pid and not child.running for child in children)
    assert all(child.peak_rss and child.peak_exact for child in children)
    # One child at a time beside the shell: a few MB, not the sum of 200 peaks.
    total = sum(child.peak_rss or 0 for child in children)
    assert result.tree_peak_rss_bound < 12 * MiB < total
    assert result.exit_code == 0


def test_grandchild_killed_by_sigkill() -> None:
    result = check(procstatus.run_command(["sh", "-c", "sh -c 'kill -9 $$'; exit 3"]))
    victim = by_argv(result, "sh", "-c", "kill -9 $$")
    assert (victim.exit_code, victim.signal) == (137, 9)
    assert victim.peak_rss is not None
    assert victim.peak_exact
    assert (result.exit_code, result.signal) == (3, None)


def test_background_child_outlives_the_command() -> None:
    started = time.monotonic()
    result = procstatus.run_command(["sh", "-c", "sleep 30 & exit 4"])
    took = time.monotonic() - started
    # Detached as it was at that moment: the forked shell, or already sleep.
    (sleeper,) = [process for process in result.processes if process.running]
    try:
        assert took < 10  # reported at once, not after the 30 s
        assert result.exit_code == 4
        assert sleeper.running
        assert (sleeper.exit_code, sleeper.signal, sleeper.end_s) == (None, None, None)
        assert sleeper.peak_rss is not None
        assert sleeper.peak_rss > 0
        assert not sleeper.peak_exact  # its peak so far: it may still raise it
        status = raw_status(sleeper.pid)
        assert raw_field(status, b"TracerPid") == b"0"
        # Running normally: not stopped (T) nor traced-stopped (t). It may be in D for a
        # moment (the forked shell in the middle of its exec of sleep).
        assert raw_field(status, b"State")[:1] in (b"R", b"S", b"D")
        check(result)
    finally:
        os.kill(sleeper.pid, signal.SIGKILL)


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler")
def test_survivor_whose_main_thread_has_exited_is_let_go(tmp_path: Path) -> None:
    # Its leader is a zombie that never stops again and whose death is reported only
    # with the last thread's: the run must not wait for the worker's 30 s.
    source = tmp_path / "leader_leaves.c"
    source.write_text(
        "#include <pthread.h>\n#include <unistd.h>\n"
        "static void *work(void *arg) { sleep(30); return arg; }\n"
        "int main(void) { pthread_t t; pthread_create(&t, 0, work, 0); pthread_exit(0); }\n"
    )
    program = tmp_path / "leader_leaves"
    subprocess.run(["cc", "-pthread", "-o", str(program), str(source)], check=True)
    started = time.monotonic()
    result = procstatus.run_command(["sh", "-c", f"{program} & sleep 0.2; exit 0"])
    took = time.monotonic() - started
    (survivor,) = [process for process in result.processes if process.running]
    try:
        assert took < 10
        assert survivor.argv == (str(program),)
        assert not survivor.peak_exact  # its peak so far
        (worker,) = [
            int(tid) for tid in os.listdir(f"/proc/{survivor.pid}/task") if int(tid) != survivor.pid
        ]
        worker_status = Path("/proc") / str(survivor.pid) / "task" / str(worker) / "status"
        status = worker_status.read_bytes()
        assert raw_field(status, b"TracerPid") == b"0"
        assert raw_field(status, b"State")[:1] in (b"R", b"S", b"D")  # not stopped
    finally:
        os.kill(survivor.pid, signal.SIGKILL)
    # The zombie leader stayed linked to this tracer (Limits in docs/peak.md): now
    # that its last thread is gone, it is reported here, and reaped.
    assert os.waitpid(survivor.pid, _run._WALL)[0] == survivor.pid
    no_tracee_left()


@pytest.mark.parametrize(
    ("script", "state"),
    [
        ("sleep 30 & kill -STOP $!; exit 0", b"T"),  # stopped by a signal: stays stopped
        ("(while :; do /bin/true; done) & exit 0", None),  # forks on while it is let go
    ],
    ids=["job-control-stop", "forking"],
)
def test_survivors_are_let_go_as_they_are(script: str, state: Optional[bytes]) -> None:
    result = procstatus.run_command(["sh", "-c", script])
    # The background shell, and a /bin/true it was running at that moment, if any.
    survivors = [process for process in result.processes if process.running]
    try:
        check(result)  # nothing traced, not even a child it was forking meanwhile
        status = raw_status(survivors[0].pid)
        assert raw_field(status, b"TracerPid") == b"0"
        if state is not None:
            assert len(survivors) == 1
            # Detached with the stop it was in; under load the kernel may show it
            # running for a moment before it is back in that group stop.
            deadline = time.monotonic() + 3
            while raw_field(status, b"State")[:1] != state and time.monotonic() < deadline:
                time.sleep(0.01)
                status = raw_status(survivors[0].pid)
            assert raw_field(status, b"State")[:1] == state
    finally:
        for survivor in survivors:
            with contextlib.suppress(ProcessLookupError):
                os.kill(survivor.pid, signal.SIGKILL)


def test_wait_all_follows_the_background_child_to_its_end() -> None:
    result = check(procstatus.run_command(["sh", "-c", "sleep 0.3 & exit 4"], wait_all=True))
    sleeper = by_argv(result, "sleep", "0.3")
    assert not sleeper.running
    assert sleeper.exit_code == 0
    assert sleeper.end_s is not None
    assert sleeper.end_s >= 0.3
    assert result.exit_code == 4
    assert result.wall_s < sleeper.end_s  # wall time is the command's own


def test_multi_threaded_child() -> None:
    code = textwrap.dedent(
        """
        import threading, time
        held = []
        def work():
            held.append(b"x" * (40 << 20))
            time.sleep(0.3)
        threads = [threading.Thread(target=work) for _ in range(3)]
        for thread in threads: thread.start()
        for thread in threads: thread.join()
        """
    )
    result = check(procstatus.run_command(["sh", "-c", f'"{PY}" -c "$0"; exit 0', code]))
    assert len(result.processes) == 2  # threads share their process's entry
    python = result.processes[1]
    assert python.peak_rss is not None
    assert python.peak_rss >= 120 * MiB
    assert python.peak_exact
    assert result.tree_peak_rss_sampled >= 100 * MiB


def test_child_that_execs_twice(tmp_path: Path) -> None:
    # python holding 100 MiB execs python holding 30 MiB, which execs sh: one
    # process, three programs. Its peak is the last program's (the earlier images
    # are freed inside execve, with no stop to read them at); the tree figures
    # still see the 100 MiB, read while it was held.
    second = tmp_path / "second.py"
    second.write_text(
        "import os, time\ndata = b'x' * (30 << 20)\ntime.sleep(0.3)\n"
        "os.execv('/bin/sh', ['sh', '-c', 'exit 6'])\n"
    )
    first = tmp_path / "first.py"
    first.write_text(
        "import os, sys, time\ndata = b'x' * (100 << 20)\ntime.sleep(0.3)\n"
        f"os.execv(sys.executable, [sys.executable, {str(second)!r}])\n"
    )
    result = check(procstatus.run_command(["sh", "-c", f'"{PY}" "{first}"; exit $?']))
    assert len(result.processes) == 2
    child = result.processes[1]
    assert child.argv == ("sh", "-c", "exit 6")
    assert child.exit_code == 6
    assert child.peak_rss is not None
    assert child.peak_rss < 10 * MiB
    assert result.exit_code == 6
    assert result.tree_peak_rss_sampled >= 100 * MiB
    assert result.tree_peak_rss_bound >= result.tree_peak_rss_sampled


def test_exec_from_a_thread_that_is_not_the_leader() -> None:
    # The thread takes over the leader's pid (PTRACE_EVENT_EXEC reports its former tid).
    code = (
        "import os, threading, time\n"
        "threading.Thread(target=lambda: os.execv('/bin/sh', ['sh', '-c', 'exit 7'])).start()\n"
        "time.sleep(30)\n"
    )
    result = check(procstatus.run_command([PY, "-c", code]))
    assert len(result.processes) == 1
    assert result.processes[0].argv == ("sh", "-c", "exit 7")
    assert result.exit_code == 7
    assert result.peak_exact


def test_tree_samples_and_on_sample() -> None:
    seen: list[procstatus.TreeSample] = []
    result = check(
        procstatus.run_command(
            ["sh", "-c", f'{PY} -c "{hold(50, 1.0)}"'], interval=0.02, on_sample=seen.append
        )
    )
    assert tuple(seen) == result.samples
    assert result.interval_s == 0.02
    times = [sample.elapsed_s for sample in seen]
    assert times == sorted(times)
    # The interval samples at least: a second at 20 ms is 50 (20 leaves room for a
    # loaded machine, where the tracer may fall behind and skip some).
    assert len(seen) >= 20
    assert all(sample.pss is None for sample in seen)
    assert result.tree_peak_pss_sampled is None
    assert {pid for sample in seen for pid in sample.rss} <= {p.pid for p in result.processes}


def test_pss_of_two_forked_children() -> None:
    # Two children of one Python share its 100 MiB copy-on-write: RSS counts those
    # pages in each process, PSS divides them among the three.
    # The children live until the parent closes the pipe, half a second after both
    # said they run: all three are alive together, however loaded the machine.
    code = (
        "import os, time\n"
        "data = b'x' * (100 << 20)\n"
        "hold_r, hold_w = os.pipe()\n"
        "ready_r, ready_w = os.pipe()\n"
        "for _ in range(2):\n"
        "    if os.fork() == 0:\n"
        "        os.close(hold_w)\n"
        "        os.write(ready_w, b'r')\n"
        "        os.read(hold_r, 1)\n"
        "        os._exit(0)\n"
        "os.read(ready_r, 1); os.read(ready_r, 1)\n"
        "time.sleep(0.5)\n"
        "os.close(hold_w)\n"
        "os.wait(); os.wait()\n"
    )
    result = check(procstatus.run_command([PY, "-c", code], pss=True))
    assert len(result.processes) == 3
    assert result.tree_peak_rss_sampled >= 300 * MiB
    assert result.tree_peak_pss_sampled is not None
    assert 100 * MiB <= result.tree_peak_pss_sampled < 160 * MiB
    assert any(sample.pss for sample in result.samples)


# ---- signals, job control, and nothing left behind -------------------------------------


def _spawn_runner(command: list[str]) -> subprocess.Popen[str]:
    code = (
        "import json, procstatus\n"
        f"print(json.dumps(procstatus.run_command({command!r}).to_json_dict()))"
    )
    return subprocess.Popen([PY, "-c", code], stdout=subprocess.PIPE, text=True)


def _children(pid: int) -> list[int]:
    found = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        found += [
            int(child) for child in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
        ]
    return found


def _traced_child(runner: int, name: bytes = b"sleep") -> int:
    for _ in range(500):
        pids = _children(runner)
        if pids and Path(f"/proc/{pids[0]}/cmdline").read_bytes().startswith(name):
            return pids[0]
        time.sleep(0.01)
    raise AssertionError("the command did not start")


def test_sigterm_is_forwarded_to_the_command() -> None:
    with _spawn_runner(["sleep", "30"]) as runner:
        _traced_child(runner.pid)
        runner.send_signal(signal.SIGTERM)
        out, _ = runner.communicate(timeout=20)
    assert runner.returncode == 0  # procstatus itself reports and ends normally
    assert json.loads(out)["exit_code"] == 143


def _state(pid: int) -> str:
    # The field after "(comm)" in /proc/PID/stat; comm may hold spaces and parentheses.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _wait_until_held_stopped(pid: int) -> None:
    """Until the traced command has sat in a stop for 10 polls: past the
    signal-delivery-stop, left listening by procstatus in its group stop."""
    stopped_polls = 0
    for _ in range(1000):
        stopped_polls = stopped_polls + 1 if _state(pid) == "t" else 0
        if stopped_polls == 10:
            return
        time.sleep(0.02)
    pytest.fail(f"process {pid} did not stay stopped")


def test_job_control_stop_and_continue() -> None:
    with _spawn_runner(["sleep", "3"]) as runner:
        command = _traced_child(runner.pid)
        os.kill(command, signal.SIGSTOP)
        _wait_until_held_stopped(command)
        assert runner.poll() is None  # procstatus waits while its command is stopped
        os.kill(command, signal.SIGCONT)
        out, _ = runner.communicate(timeout=20)
    assert json.loads(out)["exit_code"] == 0


def test_job_control_of_a_grandchild() -> None:
    # SIGCONT wakes a stopped grandchild by itself (PTRACE_LISTEN): no polling.
    with _spawn_runner(["sh", "-c", "sleep 2; exit 5"]) as runner:
        shell = _traced_child(runner.pid, b"sh")
        sleeper = _traced_child(shell)
        os.kill(sleeper, signal.SIGSTOP)
        _wait_until_held_stopped(sleeper)
        os.kill(sleeper, signal.SIGCONT)
        out, _ = runner.communicate(timeout=20)
    assert json.loads(out)["exit_code"] == 5


def test_sigkill_while_stopped_is_reported() -> None:
    # The shell stops itself; while procstatus keeps it in that group stop, SIGKILL
    # takes it to its exit stop, which is a stop to handle, not its death.
    with _spawn_runner(["sh", "-c", "kill -STOP $$; sleep 30"]) as runner:
        command = _traced_child(runner.pid, b"sh")
        _wait_until_held_stopped(command)
        os.kill(command, signal.SIGKILL)
        out, _ = runner.communicate(timeout=20)
    assert runner.returncode == 0
    data = json.loads(out)
    assert (data["exit_code"], data["signal"]) == (137, 9)
    assert data["peak_rss"] > 0


def test_procstatus_killed_leaves_no_tracee_stopped() -> None:
    # PTRACE_O_EXITKILL: when the tracer dies, the kernel SIGKILLs every tracee.
    with _spawn_runner(["sh", "-c", "sleep 30 & sleep 30; wait"]) as runner:
        shell = _traced_child(runner.pid, b"sh")
        for _ in range(500):
            sleepers = _children(shell)
            if len(sleepers) == 2 and all(
                Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep") for pid in sleepers
            ):
                break
            time.sleep(0.01)
        else:
            pytest.fail("the sleeps did not start")
        runner.kill()
        runner.wait(timeout=20)
    for pid in [shell, *sleepers]:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                state = _state(pid)
            except FileNotFoundError:
                break  # gone
            assert state not in ("t", "T"), f"process {pid} was left stopped"
            time.sleep(0.01)
        else:
            pytest.fail(f"process {pid} is still alive")


# Each run is interrupted by the signal at another moment, from before the fork to
# after the command's exec: a 300 MB caller takes milliseconds to fork.
INTERRUPTED = """
import os, sys, procstatus
hold = b"x" * (300 << 20)
results = []
for _ in range(int(sys.argv[1])):
    outcome = "interrupted"
    try:
        os.write(1, b"go\\n")  # the signal comes after this, anywhere below
        procstatus.run_command(["true"])
        outcome = "ran"
    except KeyboardInterrupt:
        pass
    results.append(outcome)
    try:
        os.waitpid(-1, os.WNOHANG | 0x40000000)  # __WALL
        results.append("child left")
    except ChildProcessError:
        pass
    os.write(1, b"done\\n")
    sys.stdin.readline()
os.write(1, " ".join(results).encode())
"""


def test_sigint_at_every_moment_around_the_fork() -> None:
    runs = 60
    with subprocess.Popen(
        [PY, "-c", INTERRUPTED, str(runs)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as caller:
        assert caller.stdin is not None
        assert caller.stdout is not None
        try:
            for run in range(runs):
                assert caller.stdout.readline() == "go\n"
                time.sleep(run * 0.0001)  # 0 to 6 ms after the caller said it starts
                caller.send_signal(signal.SIGINT)
                assert caller.stdout.readline() == "done\n"
                assert _children(caller.pid) == []
                caller.stdin.write("\n")
                caller.stdin.flush()
            out = caller.stdout.read()
        finally:
            caller.kill()
    outcomes = out.split()
    assert "child left" not in out
    assert len(outcomes) == runs
    assert set(outcomes) <= {"ran", "interrupted"}


# os.fork() replaced so that the interruption lands right after the fork, in the
# parent, before run_command can store the pid: as a signal (blocked there, so it
# reaches the run's own handler, which ignores it), or as an exception (as from a
# signal caught by another thread): then the child is found through the pipe it
# wrote its pid to, and reaped.
AROUND_THE_FORK = """
import os, signal, sys, procstatus
real_fork = os.fork
def fork():
    pid = real_fork()
    if pid:
        if sys.argv[1] == "signal":
            os.kill(os.getpid(), signal.SIGINT)
        else:
            raise KeyboardInterrupt
    return pid
os.fork = fork
try:
    outcome = "ran %d" % procstatus.run_command(["sh", "-c", "exit 3"]).exit_code
except KeyboardInterrupt:
    outcome = "interrupted"
try:
    os.waitpid(-1, os.WNOHANG | 0x40000000)
    left = "child left"
except ChildProcessError:
    left = "nothing left"
print(outcome, left)
"""


@pytest.mark.parametrize(
    ("how", "outcome"),
    [("signal", "ran 3 nothing left"), ("exception", "interrupted nothing left")],
    ids=["signal", "exception"],
)
def test_interrupt_right_after_the_fork(how: str, outcome: str) -> None:
    out = subprocess.run(
        [PY, "-c", AROUND_THE_FORK, how], check=True, capture_output=True, text=True, timeout=30
    )
    assert out.stdout.strip() == outcome


def test_fork_failure_closes_the_pipes(monkeypatch: pytest.MonkeyPatch) -> None:
    def fork() -> int:
        raise BlockingIOError(errno.EAGAIN, "Resource temporarily unavailable")

    before = sorted(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fork", fork)
    with pytest.raises(BlockingIOError):
        procstatus.run_command(["true"])
    monkeypatch.undo()
    assert sorted(os.listdir("/proc/self/fd")) == before


def _fail_at_the_exit_stop(root: str, pid: int, tid: int) -> bytes:
    raise OSError(errno.EIO, "Input/output error")


def _interrupt_before_forwarding(self: object) -> None:
    raise KeyboardInterrupt


def _fail_in_on_sample(sample: procstatus.TreeSample) -> None:
    raise RuntimeError("on_sample failed")


@pytest.mark.parametrize(
    ("where", "replacement", "command", "error"),
    [
        ("_read_at_exit", _fail_at_the_exit_stop, ["true"], OSError),
        (
            "_SignalForwarding.__enter__",
            _interrupt_before_forwarding,
            ["sleep", "30"],
            KeyboardInterrupt,
        ),
        (None, None, ["sh", "-c", "sleep 30 & sleep 30"], RuntimeError),
    ],
    ids=["read-error-at-exit-stop", "interrupt-before-forwarding", "error-in-on-sample"],
)
def test_the_tree_is_killed_and_reaped_when_following_fails(
    monkeypatch: pytest.MonkeyPatch,
    where: Optional[str],
    replacement: Optional[Callable[..., object]],
    command: list[str],
    error: type[BaseException],
) -> None:
    pids: list[int] = []
    real_waitpid = os.waitpid

    def waitpid(pid: int, options: int) -> tuple[int, int]:
        pids.append(pid)
        return real_waitpid(pid, options)

    monkeypatch.setattr(os, "waitpid", waitpid)
    if where is not None:
        owner, _, name = where.rpartition(".")
        monkeypatch.setattr(getattr(_run, owner) if owner else _run, name, replacement)
    on_sample = _fail_in_on_sample if where is None else None
    with pytest.raises(error):
        procstatus.run_command(command, on_sample=on_sample)
    monkeypatch.undo()
    assert pids
    no_tracee_left()  # reaped: no longer a child of ours, nothing traced


def test_ptrace_not_permitted(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stand in for Yama ptrace_scope 3: PTRACE_SEIZE fails with EPERM.
    def refuse(request: int, pid: int, addr: Optional[int], data: Optional[int]) -> int:
        import ctypes

        ctypes.set_errno(errno.EPERM)
        return -1

    monkeypatch.setattr(_run, "_ptrace_cache", [refuse])
    with pytest.raises(procstatus.PeakTraceError) as caught:
        procstatus.run_command(["true"])
    assert caught.value.errno == errno.EPERM
    assert caught.value.strerror is not None
    assert caught.value.strerror.startswith(
        "cannot trace the command (ptrace(PTRACE_SEIZE): Operation not permitted)"
    )
    no_tracee_left()  # the child, never let go, exited on its own and was reaped


def test_handlers_installed_from_c_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    # signal.getsignal() says None for a handler Python did not install and cannot
    # reinstall; stand in for one on SIGHUP.
    real_getsignal, real_signal = signal.getsignal, signal.signal
    installed: list[int] = []

    def getsignal(signum: int) -> object:
        return None if signum == signal.SIGHUP else real_getsignal(signum)

    def record(signum: int, handler: object) -> object:
        installed.append(signum)
        return real_signal(signum, handler)  # type: ignore[arg-type]

    before = real_getsignal(signal.SIGHUP)
    monkeypatch.setattr(signal, "getsignal", getsignal)
    monkeypatch.setattr(signal, "signal", record)
    assert procstatus.run_command(["true"]).exit_code == 0
    monkeypatch.undo()
    assert signal.SIGHUP not in installed
    assert signal.SIGTERM in installed
    assert real_getsignal(signal.SIGHUP) == before


def test_no_signal_is_forwarded_once_the_command_is_reaped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, signum: sent.append((pid, signum)))
    tracer = types.SimpleNamespace(pid=999_999, command_reaped=False)
    forwarding = _run._SignalForwarding(tracer)  # type: ignore[arg-type]
    forwarding._forward(signal.SIGTERM, None)
    tracer.command_reaped = True  # from here on the pid may belong to another process
    forwarding._forward(signal.SIGHUP, None)
    assert sent == [(999_999, signal.SIGTERM)]


def test_the_signal_mask_is_restored() -> None:
    before = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    procstatus.run_command(["true"])
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == before


# ---- the fallbacks of the waiting loop ----------------------------------------------------

SIGCHLD_IGNORED = """
import json, signal, sys, procstatus
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
result = procstatus.run_command(["sh", "-c", sys.argv[1]])
print(json.dumps([result.exit_code, len(result.processes)]))
"""


def test_sigchld_ignored_by_the_caller() -> None:
    # Then the kernel sends no SIGCHLD for stops, and the tracer polls.
    script = "for i in 1 2 3; do sh -c 'exit 0'; done; exit 2"
    out = subprocess.run(
        [PY, "-c", SIGCHLD_IGNORED, script], check=True, capture_output=True, text=True, timeout=60
    )
    assert json.loads(out.stdout) == [2, 4]


def test_a_zombie_of_the_caller_is_left_to_the_caller() -> None:
    # Ready for every waitid() peek, it hides our tracees: each is then polled.
    with spawn_zombie() as zombie:
        result = procstatus.run_command(["sh", "-c", "sh -c 'exit 0'; exit 1"])
        assert result.exit_code == 1
        assert len(result.processes) == 2
        assert zombie.wait() == 0  # still there to be reaped by its owner


def test_run_from_another_thread() -> None:
    results: list[procstatus.RunResult] = []
    thread = threading.Thread(
        target=lambda: results.append(procstatus.run_command(["sh", "-c", "sh -c 'exit 2'"]))
    )
    thread.start()
    thread.join(60)
    assert results
    assert results[0].exit_code == 2
    check(results[0])


FORK_AND_DIE = """
import os, signal, threading, time
def kill():
    time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGKILL)
threading.Thread(target=kill).start()
for _ in range(200):
    if os.fork() == 0:
        time.sleep(10)
        os._exit(0)
"""


def _traced_by(tid: int) -> list[int]:
    """Every process with a thread traced by thread ``tid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{entry}/task"):
                status = raw_status(int(entry), int(task))
                if raw_field(status, b"TracerPid") == str(tid).encode():
                    found.append(int(entry))
                    break
    return found


def test_child_seen_before_its_fork_event_from_another_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A grandchild forks on until another of its threads kills it: the newest
    # tracee is peeked first (kernel/ptrace.c ptrace_link adds it at the head of
    # the tracer's list), so many a child's first stop is seen before its parent's
    # fork event. Such a child is recognised by its TracerPid, the tracing thread's
    # id: never left to the caller, never left traced. Each run is checked before
    # its thread ends (the end of the tracing thread would release its tracees).
    adopted: list[bool] = []
    adopt = _run._Tracer._adopt

    def spy(self: _run._Tracer, tid: int) -> bool:
        adopted.append(adopt(self, tid))
        return adopted[-1]

    monkeypatch.setattr(_run._Tracer, "_adopt", spy)
    left: list[int] = []
    survivors: list[int] = []

    def runs() -> None:
        tid = threading.get_native_id()
        for _ in range(5):
            result = procstatus.run_command(["sh", "-c", '"$0" -c "$1"; exit 0', PY, FORK_AND_DIE])
            survivors.extend(p.pid for p in result.processes if p.running)
            left.extend(_traced_by(tid))
            for pid in survivors:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)

    thread = threading.Thread(target=runs)
    try:
        thread.start()
        thread.join(60)
        assert not thread.is_alive()
        assert left == []
        assert len(survivors) >= 5  # children were followed, and let go
        assert True in adopted
        assert False not in adopted
    finally:
        for pid in survivors + left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# ---- arguments ----------------------------------------------------------------------------


def test_a_str_command_is_a_type_error() -> None:
    with pytest.raises(
        TypeError, match=r"as a list of arguments, e\.g\. \['ls', '-l'\], not a str"
    ):
        procstatus.run_command("true")  # a str is a Sequence[str] to mypy: checked at run time


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"argv": []}, ValueError, "run_command needs a command to run"),
        ({"argv": ["tr\0ue"]}, ValueError, "embedded null byte in an argument"),
        ({"argv": [b"true"]}, None, None),
        ({"argv": [1]}, TypeError, "expected str, bytes or os.PathLike object, not int"),
        ({"interval": 0}, ValueError, "interval must be a positive number of seconds, not 0"),
        ({"interval": float("nan")}, ValueError, "interval must be a positive number"),
        ({"interval": "1"}, TypeError, "interval must be a number of seconds, not str"),
        ({"interval": True}, TypeError, "interval must be a number of seconds, not bool"),
        ({"env": {"A=B": "1"}}, ValueError, "illegal environment variable name: 'A=B'"),
        ({"env": {"A": "1\0"}}, ValueError, "embedded null byte in the environment"),
        ({"env": ["A"]}, TypeError, "env must be a mapping, not list"),
    ],
    ids=[
        "empty",
        "nul",
        "bytes-arg",
        "int-arg",
        "zero-interval",
        "nan-interval",
        "str-interval",
        "bool-interval",
        "env-name",
        "env-nul",
        "env-list",
    ],
)
def test_arguments_are_checked_before_the_fork(
    kwargs: dict[str, object], error: Optional[type[Exception]], message: Optional[str]
) -> None:
    arguments: dict[str, object] = {"argv": ["true"], **kwargs}
    argv = arguments.pop("argv")
    if error is None:
        assert procstatus.run_command(argv, **arguments).exit_code == 0  # type: ignore[arg-type]
        return
    assert message is not None
    with pytest.raises(error, match=f"^{message.replace('[', '.').replace('(', '.')}"):
        procstatus.run_command(argv, **arguments)  # type: ignore[arg-type]
    no_tracee_left()


def test_cwd_and_env(tmp_path: Path) -> None:
    (tmp_path / "marker").write_text("")
    tool = tmp_path / "bin" / "mytool"
    tool.parent.mkdir()
    tool.write_text('#!/bin/sh\ntest -e marker && test "$GREETING" = hello && exit 9\n')
    tool.chmod(0o755)
    env = {"PATH": f"{tool.parent}:/usr/bin:/bin", "GREETING": "hello"}
    result = procstatus.run_command(["mytool"], cwd=tmp_path, env=env)
    assert result.exit_code == 9


@pytest.mark.parametrize(
    ("argv", "cwd", "error", "filename"),
    [
        (["no-such-command-here"], None, FileNotFoundError, "no-such-command-here"),
        (["./data.txt"], None, PermissionError, "./data.txt"),
        (["true"], "no-such-directory", FileNotFoundError, "no-such-directory"),
    ],
    ids=["not-found", "not-executable", "bad-cwd"],
)
def test_command_that_cannot_run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    cwd: Optional[str],
    error: type[OSError],
    filename: str,
) -> None:
    (tmp_path / "data.txt").write_text("no execute bit\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(error) as caught:
        procstatus.run_command(argv, cwd=cwd)
    assert caught.value.filename == filename
    no_tracee_left()


# ---- pure parts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("segments", "bound"),
    [
        ([], 0),
        ([(0.0, 1.0, 5)], 5),
        ([(0.0, 1.0, 5), (0.5, 2.0, 7)], 12),  # overlap: both count
        ([(0.0, 1.0, 5), (1.0, 2.0, 7)], 7),  # one ends as the other starts: never both
        ([(0.0, 1.0, 5), (2.0, 3.0, 7), (2.5, 4.0, 1)], 8),
        ([(0.0, 10.0, 1)] + [(i, i + 0.5, 3) for i in range(5)], 4),
    ],
    ids=["none", "one", "overlap", "touching", "later-pair", "many-short"],
)
def test_tree_bound(segments: list[tuple[float, float, int]], bound: int) -> None:
    assert _run._tree_bound(segments) == bound


def test_result_json() -> None:
    result = check(procstatus.run_command(["sh", "-c", "sh -c 'exit 2'; exit 1"]))
    data = result.to_json_dict()
    assert sorted(data) == [
        "argv",
        "exit_code",
        "interval_s",
        "peak_exact",
        "peak_pid",
        "peak_rss",
        "pid",
        "processes",
        "signal",
        "tree_peak_pss_sampled",
        "tree_peak_rss_bound",
        "tree_peak_rss_sampled",
        "wall_s",
    ]
    assert json.loads(json.dumps(data)) == data
    child = data["processes"][1]  # type: ignore[index]
    assert sorted(child) == [
        "argv",
        "end_s",
        "exit_code",
        "peak_exact",
        "peak_rss",
        "pid",
        "ppid",
        "running",
        "signal",
        "start_s",
    ]
    assert (child["argv"], child["exit_code"], child["running"]) == (
        ["sh", "-c", "exit 2"],
        2,
        False,
    )
    with_samples = result.to_json_dict(samples=True)
    assert len(with_samples["samples"]) == len(result.samples)  # type: ignore[arg-type]


def test_arguments_that_are_not_utf8_are_valid_json() -> None:
    result = procstatus.run_command([b"sh", b"-c", b"exit 0", b"\xff"])
    assert result.argv[-1] == "\udcff"  # kept byte for byte, as os.fsdecode does
    data = result.to_json_dict()
    assert data["argv"] == ["sh", "-c", "exit 0", "\ufffd"]
    json.dumps(data).encode("utf-8")  # no lone surrogate left


# ---- properties ------------------------------------------------------------------------


@given(
    st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 1000)).map(
            lambda t: (float(min(t[0], t[1])), float(max(t[0], t[1])), t[2])
        ),
        max_size=12,
    )
)
def test_tree_bound_is_the_highest_sum_at_any_moment(
    segments: list[tuple[float, float, int]],
) -> None:
    # Brute force: at every start (and just after every end) add up what is alive;
    # an interval holds its start and not its end, so touching ones never add up.
    moments = {start for start, _, _ in segments}
    expected = max(
        (sum(v for s, e, v in segments if s <= t < e) for t in moments if moments), default=0
    )
    assert _run._tree_bound(segments) == expected


ARGUMENTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.lists(st.one_of(st.text(max_size=6), st.binary(max_size=6), st.integers()), max_size=3),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=2),
)


@given(argv=ARGUMENTS, cwd=ARGUMENTS, env=ARGUMENTS, interval=ARGUMENTS)
def test_only_documented_errors_come_from_bad_arguments(
    argv: object, cwd: object, env: object, interval: object
) -> None:
    # The checks made before anything is started: TypeError or ValueError, never
    # anything else, and never a fork.
    try:
        _run._Plan.build(argv, cwd, env)
        _run._check_interval(interval)
    except (TypeError, ValueError):
        pass
