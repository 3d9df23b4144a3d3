"""From the text of /proc/PID/status to a :class:`ProcStatus`. Pure: no I/O.

The kernel writes one ``Key:<TAB>value`` line per field (fs/proc/array.c), so a
line is split at its first colon and nothing is ever searched for across
lines: only ``Name`` carries text a process chooses, and the kernel escapes
the one byte that could end its line (newline becomes ``\\n``).

Every value is checked here, before anything is returned; converting a value
to its Python type waits until it is first read, and cannot fail then.

There are two paths, with the same results. The exact path (``_parse_exact``)
is the reference: it splits the lines, then checks the values of each kind
against the kind's ``pattern``. It costs several times the read of the file,
so a text of a *known shape* (the same keys in the same order as texts seen
before: one kernel prints a handful of shapes, for user processes, kernel
threads and zombies) takes the fast path instead: one compiled regular
expression for the whole text, built from each kind's ``fast`` layout, checks
every value and captures it in a single C-level pass. A fast layout accepts only
what the kernel itself prints (exact tabs, ids of at most nine digits, ...), a
subset of the valid texts; anything else, including every error, falls through
to the exact path. Shapes are learned when seen a second time (compiling costs
milliseconds, so a one-off parse never pays it); that cache is the only state
here and changes nothing but speed. tests/test_parse_paths.py checks that both
paths agree on the corpus and on generated and mutated texts.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from itertools import repeat
from operator import itemgetter, mul
from typing import NamedTuple, Optional, Union

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
    raw: Optional[Mapping[str, str]] = _parse_known_shape(text, _templates)
    if raw is None:
        raw = _parse_exact(text)
        _learn_shape(tuple(raw))
    return ProcStatus(raw)


def _parse_exact(text: str) -> Mapping[str, str]:
    """The reference path: split the lines, check every value by its kind's pattern."""
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
    return raw


def parse_memory(data: Union[str, bytes]) -> Optional[Memory]:
    """Parse only the memory lines of a status text, in bytes.

    Returns None when the text has no memory line (kernel threads, zombies).
    The same as ``parse_status(data).memory`` for every text that parses, but
    it checks only the memory lines, so it is several times faster: made for
    sampling loops. Memory lines are found only where a line starts, so no
    process name can pass for one.
    """
    text = _decode(data)
    memory = _parse_known_memory_block(text, _blocks)
    if memory is None:
        memory = _parse_memory_exact(text)
        if memory is not None:
            _learn_memory_block(memory)
    return memory


def _parse_memory_exact(text: str) -> Optional[Memory]:
    """The reference path: each memory line found, checked and converted on its own."""
    text = "\n" + text
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
        all_match = kind.many.fullmatch(joined) is not None
        if not all_match or kind.check is not None:
            problems.extend(_problems(kind, keys, raw, lines, all_match=all_match))
    if problems:
        number, key, reason = min(problems)  # report the first bad line of the text
        raise StatusParseError(reason, line=number, field=key, text=lines[number - 1])


def _problems(
    kind: Kind, keys: tuple[str, ...], raw: dict[str, str], lines: list[str], *, all_match: bool
) -> list[tuple[int, str, str]]:
    problems = []
    for key in keys:
        text = raw.get(key)
        if text is None:
            continue
        if not all_match and kind.pattern.fullmatch(text) is None:
            problems.append((_line_number(lines, key), key, f"expected {kind.expected}"))
        elif kind.check is not None:
            reason = kind.check(text)
            if reason is not None:
                problems.append((_line_number(lines, key), key, reason))
    return problems


def _line_number(lines: list[str], key: str) -> int:
    prefix = key + ":"
    return next(number for number, line in enumerate(lines, 1) if line.startswith(prefix))


# The fast path for texts of a known shape (see the module docstring).


class _Template(NamedTuple):
    """One whole-text regular expression for one shape: these keys, in this order."""

    keys: tuple[str, ...]
    #: The same keys as a set, for lookups.
    key_set: frozenset[str]
    pattern: re.Pattern[str]
    #: The values whose kind's fast layout does not make the kind's check: the
    #: pattern's group that captures the value, and the check.
    checks: tuple[tuple[int, Callable[[str], Optional[str]]], ...]


def _template(keys: tuple[str, ...]) -> _Template:
    layouts: list[str] = []
    checks: list[tuple[int, Callable[[str], Optional[str]]]] = []
    for key in keys:
        spec = FIELDS.get(key)
        kind = TEXT if spec is None else spec.kind  # unknown lines are kept as text
        # No layout crosses a newline, so the lines are matched one after the
        # other: no name can pass for another line.
        layout = kind.fast
        if kind.check is not None and not kind.fast_checked:
            # Capture the few values still to check: cheaper than cutting them out.
            layout = f"({layout})"
            checks.append((len(checks) + 1, kind.check))
        layouts.append(f"{re.escape(key)}:\t{layout}\n")
    return _Template(keys, frozenset(keys), re.compile("".join(layouts)), tuple(checks))


def _parse_known_shape(text: str, templates: tuple[_Template, ...]) -> Optional[Mapping[str, str]]:
    for template in templates:
        match = template.pattern.fullmatch(text)
        if match is not None:
            for group, check in template.checks:
                if check(match[group].strip(_BLANKS)) is not None:
                    return None  # the exact path reports it
            return _TextValues(text, template)
    return None


class _TextValues(Mapping[str, str]):
    """The values of a text that a template matched, cut out of it when first read.

    Capturing the values in the match would cost more than the match itself (the
    regular expression engine copies its group marks at every repetition), and a
    caller usually reads a few fields: so each value is found when first asked for.
    The match proved that every key starts exactly one line, right after a newline
    (or at the start of the text) and followed by ``:<TAB>``.
    """

    __slots__ = ("_template", "_text", "_values")

    def __init__(self, text: str, template: _Template) -> None:
        self._text = text
        self._template = template
        self._values: dict[str, str] = {}

    def __getitem__(self, key: str) -> str:
        value = self._values.get(key)
        if value is None:
            if key not in self._template.key_set:
                raise KeyError(key)
            value = self._values[key] = _cut(self._text, key)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._template.keys)

    def __len__(self) -> int:
        return len(self._template.keys)

    def __contains__(self, key: object) -> bool:
        return key in self._template.key_set


def _cut(text: str, key: str) -> str:
    head = key + ":\t"
    start = len(head) if text.startswith(head) else text.index("\n" + head) + len(head) + 1
    value = text[start : text.index("\n", start)]
    # The same as the exact path: Name keeps its blanks, other values lose them.
    return value if key == "Name" else value.strip(_BLANKS)


#: Templates of the shapes seen twice, newest last; a few cover a whole machine.
_templates: tuple[_Template, ...] = ()
_MAX_TEMPLATES = 8
#: Shapes seen so far: False once seen, True once their template was made. Bounded
#: (cleared when full) so that texts of ever new shapes cannot grow it.
_seen_shapes: dict[tuple[str, ...], bool] = {}
_MAX_SEEN = 64


def _learn_shape(keys: tuple[str, ...]) -> None:
    global _templates  # noqa: PLW0603  (a cache; replaced whole, so readers need no lock)
    if not _second_sighting(_seen_shapes, keys):
        return
    if len(_templates) == _MAX_TEMPLATES:
        # The oldest template goes; forget its sighting so it can come back.
        _seen_shapes.pop(_templates[0].keys, None)
    _templates = (*_templates[1 - _MAX_TEMPLATES :], _template(keys))


def _second_sighting(seen: dict[tuple[str, ...], bool], key: tuple[str, ...]) -> bool:
    """True exactly once per key: the second time it is seen."""
    made = seen.get(key)
    if made is None:
        if len(seen) >= _MAX_SEEN:
            seen.clear()
        seen[key] = False
        return False
    if made:
        return False  # made before; this text fell off its fast layouts
    seen[key] = True
    return True


# The fast path of parse_memory: task_mem() (fs/proc/task_mmu.c) prints the
# memory lines together, VmPeak first, so one match at "VmPeak:" takes the whole
# block. Any other line that starts like a memory line sends the text to the
# exact path (which finds duplicates and reports bad values).


class _MemoryBlock:
    """The memory lines of one shape, in print order: their names, Memory attributes and pattern."""

    __slots__ = ("attributes", "last", "names", "pattern")

    def __init__(
        self, names: tuple[str, ...], attributes: tuple[str, ...], pattern: re.Pattern[str]
    ) -> None:
        self.names = names
        self.attributes = attributes
        self.pattern = pattern
        #: The block last matched and its Memory. Sampling loops mostly see the same
        #: lines again, and a Memory is immutable: the same lines give back the same
        #: object, without matching, converting 16 numbers and building it again.
        self.last: tuple[str, Optional[Memory]] = ("", None)


_MEMORY_STARTS = ("Vm", "Rss", "HugetlbPages:")
#: A line that may be a memory line: every MEMORY_FIELDS name starts this way.
_MEMORY_LINE = re.compile(r"\n(?:Vm|Rss|HugetlbPages:)")
_MEMORY_KEYS = tuple((spec.name, str(spec.attribute)) for spec in MEMORY_FIELDS)
_blocks: tuple[_MemoryBlock, ...] = ()
_seen_blocks: dict[tuple[str, ...], bool] = {}


def _parse_known_memory_block(text: str, blocks: tuple[_MemoryBlock, ...]) -> Optional[Memory]:
    start = text.find("\nVmPeak:") + 1
    if not start or text.startswith(_MEMORY_STARTS):
        return None
    for block in blocks:
        last, memory = block.last  # one read: another thread may replace it
        if memory is not None and text.startswith(last, start):
            end = start + len(last)
        else:
            match = block.pattern.match(text, start)
            if match is None:
                continue
            end = match.end()
            # The digits of "%8lu kB": bytes are kB * 1024 (C-level maps).
            in_bytes = map(mul, map(int, match.groups()), repeat(1024))
            memory = Memory(**dict(zip(block.attributes, in_bytes)))
            block.last = (text[start:end], memory)
        if _MEMORY_LINE.search(text, 0, start) or _MEMORY_LINE.search(text, end - 1):
            continue  # a memory line outside the block: a longer block, or the exact path
        return memory
    return None


def _learn_memory_block(memory: Memory) -> None:
    global _blocks  # noqa: PLW0603  (a cache; replaced whole, so readers need no lock)
    names = tuple(
        name for name, attribute in _MEMORY_KEYS if getattr(memory, attribute) is not None
    )
    if names[0] != "VmPeak" or not _second_sighting(_seen_blocks, names):
        return
    if len(_blocks) == _MAX_TEMPLATES:
        _seen_blocks.pop(_blocks[0].names, None)  # as for _templates
    _blocks = (*_blocks[1 - _MAX_TEMPLATES :], _memory_block(names))


def _memory_block(names: tuple[str, ...]) -> _MemoryBlock:
    # KB's fast layout, but capturing the digits, which is all the conversion needs
    # (16 groups cost little; it is repetitions after many groups that do).
    pattern = re.compile("".join(f"{name}:\t *([0-9]{{1,20}}) kB\n" for name in names))
    return _MemoryBlock(names, tuple(FIELDS[name].attribute or "" for name in names), pattern)
