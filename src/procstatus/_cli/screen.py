"""A listing redrawn in place on a terminal, as top(1) does, and the key that quits it.

Inside ``with Screen(...)`` the terminal is in cbreak mode (keys arrive one at
a time and are not echoed; Ctrl-C and Ctrl-Z still send their signals, see
termios(3)), the cursor is hidden and line wrap is off, so that a line wider
than the terminal is cut rather than pushing the frame down. Everything is put
back however the block ends:

- ``q``, the end of the schedule, an error or Ctrl-C (KeyboardInterrupt): on
  leaving the block;
- SIGTERM or SIGHUP: restored, then the signal's default action (procstatus
  dies of it, as it would have);
- Ctrl-Z (SIGTSTP): restored while stopped, set up again and redrawn on ``fg``.

The escape sequences are ECMA-48 and DEC private modes that every terminal
emulator in use understands (xterm's ctlseqs): CUP ``ESC [ H`` (cursor home),
EL ``ESC [ K`` and ED ``ESC [ J`` (erase to the end of the line, of the
screen), DECTCEM ``ESC [ ? 25 l/h`` (cursor off/on), DECAWM ``ESC [ ? 7 l/h``
(wrap off/on). No alternate screen: the last frame stays visible after the
command ends, as top(1)'s does.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import termios
import time
import tty
from collections.abc import Sequence
from types import FrameType
from typing import Any, Callable, Optional, TextIO, Union

from .common import OutputError

__all__ = ["Screen"]

_HOME = "\x1b[H"
_ERASE_LINE = "\x1b[K"
_ERASE_BELOW = "\x1b[J"
_SETUP = "\x1b[?25l\x1b[?7l"  # cursor off, wrap off
_RESTORE = "\x1b[?7h\x1b[?25h"  # wrap on, cursor on

_QUIT_KEYS = b"qQ"

_Handler = Union[Callable[[int, Optional[FrameType]], Any], int, signal.Handlers, None]


class Screen:
    """Frames drawn in place on ``out``, a terminal; ``q`` read from ``keys``, a tty's fd."""

    def __init__(self, out: TextIO, keys: Optional[int]) -> None:
        self._out = out
        self._keys = keys
        self._reading = keys is not None  # False once the keys reach end of input
        self._saved_mode: Optional[list[Any]] = None
        self._saved_handlers: dict[int, _Handler] = {}
        self._last: Sequence[str] = ()

    # ---- setting up and restoring ------------------------------------------------------

    def __enter__(self) -> Screen:
        for signum, handler in (
            (signal.SIGTERM, self._on_terminate),
            (signal.SIGHUP, self._on_terminate),
            (signal.SIGTSTP, self._on_stop),
        ):
            previous = signal.getsignal(signum)
            if previous is signal.SIG_IGN:
                continue  # nohup, or a job control shell's background: leave it so
            self._saved_handlers[signum] = previous
            signal.signal(signum, handler)
        try:
            self._setup()
        except BaseException:
            self._restore_handlers()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._restore()
            self._write("\r\n")  # the shell's prompt goes below the last frame
        finally:
            self._restore_handlers()

    def _setup(self) -> None:
        if self._keys is not None:
            self._saved_mode = termios.tcgetattr(self._keys)
            tty.setcbreak(self._keys, termios.TCSANOW)
        self._write(_SETUP)

    def _restore(self) -> None:
        if self._saved_mode is not None and self._keys is not None:
            # TCSADRAIN: after what was written; keys typed meanwhile stay for the shell.
            # Errors: the terminal is gone (SIGHUP), there is nothing left to restore.
            with contextlib.suppress(OSError, termios.error):
                termios.tcsetattr(self._keys, termios.TCSADRAIN, self._saved_mode)
            self._saved_mode = None
        self._write(_RESTORE)

    def _restore_handlers(self) -> None:
        for signum, handler in self._saved_handlers.items():
            signal.signal(signum, handler)
        self._saved_handlers.clear()

    def _on_terminate(self, signum: int, frame: Optional[FrameType]) -> None:
        self._restore()
        self._write("\r\n")
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    def _on_stop(self, signum: int, frame: Optional[FrameType]) -> None:
        self._restore()
        self._write("\r\n")
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)  # stops here until SIGCONT (fg)
        signal.signal(signum, self._on_stop)
        self._setup()
        self.draw(self._last)

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError):  # a terminal that is gone cannot be restored either
            self._emit(text)

    def _emit(self, text: str) -> None:
        """``text`` to the terminal as it is, escape sequences included.

        Under ``main()``, ``sys.stdout`` escapes every control character
        (``common.guarded_streams``), so the frames go to its descriptor
        directly; whatever a frame quotes was escaped with ``printable()``
        where it was formatted.
        """
        self._out.flush()
        encoding = getattr(self._out, "encoding", None) or "utf-8"
        data = text.encode(encoding, "backslashreplace")
        fd = self._out.fileno()
        while data:
            data = data[os.write(fd, data) :]

    # ---- drawing and waiting -------------------------------------------------------------

    def size(self) -> tuple[int, int]:
        """The terminal's (columns, lines), read again at every frame (it may be resized)."""
        try:
            size = os.get_terminal_size(self._out.fileno())
        except (OSError, ValueError):
            size = shutil.get_terminal_size()
        return max(size.columns, 1), max(size.lines, 1)

    def draw(self, lines: Sequence[str]) -> None:
        """Replace the previous frame with ``lines``, each cut to the terminal's width."""
        self._last = lines
        columns, _ = self.size()
        body = (_ERASE_LINE + "\r\n").join(line[:columns] for line in lines)
        try:
            # One write, so the terminal never shows half a frame for long.
            self._emit(_HOME + body + _ERASE_LINE + _ERASE_BELOW)
        except OSError as error:
            raise OutputError(error) from None

    def wait_until(self, due: float) -> bool:
        """Wait until ``time.monotonic()`` reaches ``due``; True as soon as ``q`` is pressed."""
        while True:
            remaining = due - time.monotonic()
            if remaining <= 0:
                return False
            if self._keys is None or not self._reading:
                time.sleep(remaining)
                return False
            ready, _, _ = select.select([self._keys], [], [], remaining)
            if not ready:
                continue
            typed = os.read(self._keys, 1024)
            if not typed:
                self._reading = False  # end of input: no more keys, only the schedule
            elif any(key in _QUIT_KEYS for key in typed):
                return True
