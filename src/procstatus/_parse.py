"""From the text of /proc/PID/status to a :class:`ProcStatus`. Pure: no I/O.

The kernel writes one ``Key:<TAB>value`` line per field (fs/proc/array.c), so a
line is split at its first colon and nothing is ever searched for across
lines: only ``Name`` carries text a process chooses, and the kernel escapes
the one byte that could end its line (newline becomes ``\\n``).

# Strategy:
Two paths give the same results.

- The exact path (``_parse_lines``) is the reference, and defines what is
  valid: one loop over the lines, each split at its first colon and its value
  checked by the kind of its field (``Kind._check`` in ``_kinds.py``). It
  reports the first bad line, and costs time and memory in proportion to the
  text: lines are taken one at a time, never listed, and continuation lines
  are joined once.
- The fast path (``_fastpath.parse``) takes a text of a shape seen before in
  one regular-expression match, or declines; see ``_fastpath.py`` for why it
  agrees with the exact path (tests/test_parse_paths.py checks it does).

``parse_memory`` has the same two paths over the memory lines alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Optional, Union

from . import _fastpath
from ._errors import StatusParseError
from ._fields import FIELDS, MEMORY_FIELDS
from ._kinds import KB, TEXT
from ._model import Memory, ProcStatus

__all__ = ["parse_memory", "parse_status"]

_BLANKS = " \t"
_MEMORY_KEYS = tuple(spec.name for spec in MEMORY_FIELDS)
#: The check of each known line; unknown lines are free text.
_CHECKS = {name: spec.kind._check for name, spec in FIELDS.items()}
_FREE_TEXT = TEXT._check


def parse_status(data: Union[str, bytes]) -> ProcStatus:
    """Parse the text of a /proc/PID/status file.

    Bytes are decoded as UTF-8 with ``surrogateescape``, so ``os.fsencode(status.name)``
    gives back the kernel's bytes. Raises :class:`~procstatus.StatusParseError`
    (a ValueError) naming the line and field when the text is not what a
    kernel writes; any text at all either parses or raises that error.

    >>> status = parse_status("Name:\\tbash\\nVmHWM:\\t    2048 kB\\nVmRSS:\\t    1024 kB\\n")
    >>> status.name, status.peak_rss, status["VmRSS"], status.swap
    ('bash', 2097152, 1048576, None)
    """
    text = _decode(data)
    status = _fastpath.parse(text)
    if status is None:
        keys, index, texts = _parse_lines(text)
        _fastpath.learn(text, tuple(keys))
        status = ProcStatus._from_lines(tuple(keys), index, texts)
    return status


def _spans(text: str) -> Iterator[tuple[int, int]]:
    """Where each line of ``text`` starts and ends, split at "\\n" only; a final newline ends none.

    (``str.splitlines()`` would also split at \\r, \\x0b, \\x1c, U+2028 ..., which a
    name may hold; ``str.split()`` would hold every line at once.)
    """
    start, size = 0, len(text)
    while start < size:
        end = text.find("\n", start)
        if end < 0:
            end = size
        yield start, end
        start = end + 1


def _parse_lines(text: str) -> tuple[list[str], dict[str, int], list[str]]:
    """The reference path: the keys, their positions and the texts of the lines, each checked."""
    keys: list[str] = []
    index: dict[str, int] = {}
    texts: list[str] = []
    free = -1  # the position of the last line when its value is free text
    more = -1  # where the lines that continue it start, and end:
    more_end = -1
    blank_within = False
    for number, (start, end) in enumerate(_spans(text), 1):
        line = text[start:end]
        key, colon, after = line.partition(":")
        if not colon:
            if not line.strip(_BLANKS):
                blank_within = more >= 0
                continue  # blank lines: a 4.4.y stable backport printed one
            if free >= 0 and line[0] in _BLANKS:
                # s390 register dumps (arch/s390/kernel/traps.c, up to 2.6.37)
                # continue a line on the next ones, indented.
                more = start if more < 0 else more
                more_end = end
                continue
            raise StatusParseError("no ':' in the line", line=number, field=None, text=line)
        if more >= 0:
            texts[free] = _continued(texts[free], text[more:more_end], blank_within)
            more = -1
        if not key:
            raise StatusParseError("no field name before ':'", line=number, field=None, text=line)
        if key in index:
            raise StatusParseError("the field appears twice", line=number, field=key, text=line)
        check = _CHECKS.get(key, _FREE_TEXT)  # unknown lines are kept as text
        value = _name_value(after) if key == "Name" else after.strip(_BLANKS)
        reason = check(value)
        if reason is not None:
            raise StatusParseError(reason, line=number, field=key, text=line)
        index[key] = len(keys)
        keys.append(key)
        texts.append(value)
        free = index[key] if check is _FREE_TEXT else -1
    if more >= 0:
        texts[free] = _continued(texts[free], text[more:more_end], blank_within)
    return keys, index, texts


def _continued(first: str, lines: str, blank_within: bool) -> str:
    """A free-text value and the lines that continue it, joined once.

    The continuation lines follow each other in the text, so they are one slice
    of it, unless blank lines came between them (those are not part of the value).
    """
    if blank_within:
        lines = "\n".join(line for line in lines.split("\n") if line.strip(_BLANKS))
    return f"{first}\n{lines}"


def _name_value(after_colon: str) -> str:
    # The kernel writes exactly one tab after "Name:"; the rest is the name,
    # blanks included. Copies that turned the tab into spaces have spaces there.
    if after_colon.startswith("\t"):
        return after_colon[1:]
    return after_colon.lstrip(" ")


def parse_memory(data: Union[str, bytes]) -> Optional[Memory]:
    """Parse only the memory lines of a status text, in bytes.

    Returns None when the text has no memory line (kernel threads, zombies).
    The same as ``parse_status(data).memory`` for every text that parses, but it
    checks only the memory lines, so it is several times faster: made for
    sampling loops. A memory line that is malformed or appears twice raises
    :class:`~procstatus.StatusParseError` (the error ``parse_status`` raises for
    the text); anything else in the text is not looked at, so a text that is no
    status at all gives None, and one broken elsewhere still gives its memory.
    Memory lines are found only where a line starts, so no process name can
    pass for one.
    """
    text = _decode(data)
    memory = _fastpath.parse_memory(text)
    if memory is None:
        memory = _parse_memory_lines(text)
        if memory is not None:
            _fastpath.learn_memory(memory)
    return memory


def _parse_memory_lines(text: str) -> Optional[Memory]:
    """The reference path of parse_memory: each memory line found, checked and converted."""
    text = "\n" + text  # every line now starts after a newline
    values: list[Optional[int]] = []
    for name in _MEMORY_KEYS:
        needle = f"\n{name}:"
        start = text.find(needle)
        if start < 0:
            values.append(None)
            continue
        end = text.find("\n", start + 1)
        if end < 0:
            end = len(text)
        value = text[start + len(needle) : end].strip(_BLANKS)
        if KB._check(value) is not None or text.find(needle, end) >= 0:
            # A bad or repeated memory line: the full parser reports the text's first bad line.
            return parse_status(text[1:]).memory
        values.append(KB._convert(value))
    if values.count(None) == len(values):
        return None
    return Memory._make(values)


def _decode(data: Union[str, bytes]) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray)):
        # Name is raw bytes (only \n and \\ are escaped): keep invalid UTF-8 reversibly.
        return bytes(data).decode("utf-8", "surrogateescape")
    raise TypeError(f"status text must be str or bytes, not {type(data).__name__}")
