"""From the text of /proc/PID/status to a :class:`ProcStatus`. Pure: no I/O, no state.

The kernel writes one ``Key:<TAB>value`` line per field (fs/proc/array.c), so a
line is split at its first colon and nothing is ever searched for across
lines: only ``Name`` carries text a process chooses, and the kernel escapes
the one byte that could end its line (newline becomes ``\\n``).

Every value is checked here, before anything is returned; converting a value
to its Python type waits until it is first read, and cannot fail then. To keep
a whole parse close to the cost of the read itself, the per-line work runs in
C-level loops (``map`` over ``str`` methods) and the values of one kind are
checked together with a single regular expression; a line-by-line pass runs
only for unusual texts (blank lines, continuation lines, errors).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import repeat
from operator import itemgetter
from typing import Optional, Union

from ._errors import StatusParseError
from ._fields import FIELDS, MEMORY_FIELDS
from ._kinds import KB, TEXT, Kind
from ._model import Memory, ProcStatus

__all__ = ["parse_memory", "parse_status"]

_BLANKS = " \t"
_key = itemgetter(0)
_colon = itemgetter(1)
_value = itemgetter(2)


def _groups() -> tuple[tuple[Kind, tuple[str, ...]], ...]:
    keys_by_kind: dict[Kind, list[str]] = defaultdict(list)
    for spec in FIELDS.values():
        if spec.kind is not TEXT:  # free text needs no check
            keys_by_kind[spec.kind].append(spec.name)
    return tuple((kind, tuple(keys)) for kind, keys in keys_by_kind.items())


#: The fields checked together: one regular expression call per kind.
_GROUPS = _groups()


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
    lines = text.split("\n")
    if not lines[-1]:
        lines.pop()  # the final newline (some copies lost it)
    parts = list(map(str.partition, lines, repeat(":")))
    keys = list(map(_key, parts))
    values = list(map(_value, parts))
    raw = dict(zip(keys, map(str.strip, values, repeat(_BLANKS))))
    if len(raw) == len(parts) and all(map(_colon, parts)) and "" not in raw:
        if "Name" in raw:
            raw["Name"] = _name_value(values[keys.index("Name")])
    else:
        raw = _index_line_by_line(lines)
    _check(raw, lines)
    return ProcStatus(raw)


def parse_memory(data: Union[str, bytes]) -> Optional[Memory]:
    """Parse only the memory lines of a status text, in bytes.

    Returns None when the text has no memory line (kernel threads, zombies).
    The same as ``parse_status(data).memory`` for every text that parses, but
    it checks only the memory lines, so it is several times faster: made for
    sampling loops. Memory lines are found only where a line starts, so no
    process name can pass for one.
    """
    text = "\n" + _decode(data)
    found: dict[str, int] = {}
    for spec in MEMORY_FIELDS:
        needle = _NEEDLES[spec.name]
        start = text.find(needle)
        if start < 0:
            continue
        end = text.find("\n", start + 1)
        if end < 0:
            end = len(text)
        value = text[start + len(needle) : end].strip(_BLANKS)
        if text.find(needle, end) >= 0 or not KB.pattern.fullmatch(value):
            # Let the full parser find and report the problem the same way.
            parse_status(text[1:])
        found[spec.attribute] = int(value[:-3]) * 1024  # type: ignore[index]
    return Memory(**found) if found else None


_NEEDLES = {spec.name: f"\n{spec.name}:" for spec in MEMORY_FIELDS}


def _decode(data: Union[str, bytes]) -> str:
    if isinstance(data, str):
        return data
    if isinstance(data, (bytes, bytearray)):
        # Name is raw bytes (only \n and \\ are escaped): keep invalid UTF-8 reversibly.
        return bytes(data).decode("utf-8", "surrogateescape")
    raise TypeError(f"status text must be str or bytes, not {type(data).__name__}")


def _name_value(after_colon: str) -> str:
    # The kernel writes exactly one tab after "Name:"; the rest is the name,
    # blanks included. Copies that turned the tab into spaces have spaces there.
    if after_colon.startswith("\t"):
        return after_colon[1:]
    return after_colon.lstrip(" ")


def _index_line_by_line(lines: list[str]) -> dict[str, str]:
    raw: dict[str, str] = {}
    previous: Optional[str] = None
    for number, line in enumerate(lines, 1):
        key, colon, value = line.partition(":")
        if not colon:
            if not line.strip(_BLANKS):
                continue  # blank lines: a 4.4.y stable backport printed one
            if line[0] in _BLANKS and previous is not None and _is_text(previous):
                # s390 register dumps (arch/s390/kernel/traps.c, up to 2.6.37)
                # continue a line on the next ones, indented.
                raw[previous] += "\n" + line
                continue
            raise StatusParseError("no ':' in the line", line=number, field=None, text=line)
        if not key:
            raise StatusParseError("no field name before ':'", line=number, field=None, text=line)
        if key in raw:
            raise StatusParseError("the field appears twice", line=number, field=key, text=line)
        raw[key] = _name_value(value) if key == "Name" else value.strip(_BLANKS)
        previous = key
    return raw


def _is_text(key: str) -> bool:
    spec = FIELDS.get(key)
    return spec is None or spec.kind is TEXT


def _check(raw: dict[str, str], lines: list[str]) -> None:
    problems: list[tuple[int, str, str]] = []
    for kind, keys in _GROUPS:
        # Absent fields stand in with a valid filler, so that one call checks them all.
        joined = "\n".join(map(raw.get, keys, repeat(kind.filler)))
        if kind.many.fullmatch(joined) is None or kind.check is not None:
            problems.extend(_problems(kind, keys, raw, lines))
    if problems:
        number, key, reason = min(problems)  # report the first bad line of the text
        raise StatusParseError(reason, line=number, field=key, text=lines[number - 1])


def _problems(
    kind: Kind, keys: tuple[str, ...], raw: dict[str, str], lines: list[str]
) -> list[tuple[int, str, str]]:
    problems = []
    for key in keys:
        text = raw.get(key)
        if text is None:
            continue
        if kind.pattern.fullmatch(text) is None:
            problems.append((_line_number(lines, key), key, f"expected {kind.expected}"))
        elif kind.check is not None:
            reason = kind.check(text)
            if reason is not None:
                problems.append((_line_number(lines, key), key, reason))
    return problems


def _line_number(lines: list[str], key: str) -> int:
    prefix = key + ":"
    return next(number for number, line in enumerate(lines, 1) if line.startswith(prefix))
