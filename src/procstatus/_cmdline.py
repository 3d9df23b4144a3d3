"""From the bytes of /proc/PID/cmdline to the arguments. Pure: no I/O.

The kernel hands over the process's own memory from ``arg_start`` to
``arg_end`` (fs/proc/base.c get_mm_cmdline): the argv strings as execve(2)
laid them out, each followed by a NUL. Two other shapes exist:

- empty, for a kernel thread, a zombie, or a process still inside execve
  (no mm, or ``env_end`` not set yet);
- a process that wrote over its arguments (setproctitle(3), ``nginx: worker
  process``) and so replaced the NUL at ``arg_end - 1``: the kernel then gives
  the C string at ``arg_start``, at most one page, with its NUL when one was
  found (get_mm_proctitle).

Bytes are decoded as UTF-8 with ``surrogateescape``, as names are, so
``os.fsencode(arg)`` gives the exact bytes back.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["command_line", "parse_cmdline"]


def parse_cmdline(data: bytes) -> tuple[str, ...]:
    """The arguments in ``data`` (the text of /proc/PID/cmdline); ``()`` when empty.

    >>> parse_cmdline(b"sleep\\x0060\\x00")
    ('sleep', '60')
    >>> parse_cmdline(b"nginx: worker process")
    ('nginx: worker process',)
    """
    if not data:
        return ()
    # Each argument ends with a NUL; the last one may have lost its NUL (setproctitle).
    if data.endswith(b"\0"):
        data = data[:-1]
    return tuple(arg.decode("utf-8", "surrogateescape") for arg in data.split(b"\0"))


def command_line(args: Sequence[str]) -> str:
    """The arguments joined by spaces, as ps(1) shows them.

    Empty arguments at the end are left out: a process that shortened its
    title by writing NULs over the rest of its arguments leaves them behind.
    """
    end = len(args)
    while end and not args[end - 1]:
        end -= 1
    return " ".join(args[:end])
