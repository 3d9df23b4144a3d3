"""The parser's fast paths give exactly what the exact (reference) paths give.

parse_status and parse_memory first try compiled templates of text shapes seen
before (src/procstatus/_parse.py); these tests build the templates directly and
check, on the real corpus and on generated and damaged texts, that whenever a
fast path answers, the exact path gives the same values, and that it never
answers for a text the exact path rejects.
"""

from __future__ import annotations

import re
from typing import Optional

import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers_files import CORPUS_DIR, require
from procstatus import FIELDS, Memory, StatusParseError, _kinds, _parse, parse_memory, parse_status
from procstatus._fields import MEMORY_FIELDS
from strategies import CORPUS, DAMAGE_BASES, SOME, Generated, kernel_statuses, mutated

_KINDS = sorted(
    {spec.kind.name: spec.kind for spec in FIELDS.values()}.values(), key=lambda kind: kind.name
)


def text_of(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def exact(text: str) -> Optional[dict[str, str]]:
    """The exact path's raw values, or None when it rejects the text."""
    try:
        return dict(_parse._parse_exact(text))
    except StatusParseError:
        return None


def exact_memory(text: str) -> Optional[Memory]:
    return _parse._parse_memory_exact(text)


def template_of(text: str) -> Optional[_parse._Template]:
    raw = exact(text)
    return None if raw is None else _parse._template(tuple(raw))


def block_of(text: str) -> Optional[_parse._MemoryBlock]:
    try:
        memory = exact_memory(text)
    except StatusParseError:
        return None
    if memory is None:
        return None
    names = tuple(
        spec.name for spec in MEMORY_FIELDS if getattr(memory, str(spec.attribute)) is not None
    )
    return _parse._memory_block(names) if names[0] == "VmPeak" else None


def assert_fast_agrees(text: str, template: _parse._Template) -> bool:
    """If the template takes the text, the exact path takes it too, with the same values."""
    fast = _parse._parse_known_shape(text, (template,))
    if fast is None:
        return False
    assert dict(fast) == exact(text)
    assert list(fast) == list(template.keys)
    return True


def assert_fast_memory_agrees(text: str, block: _parse._MemoryBlock) -> bool:
    fast = _parse._parse_known_memory_block(text, (block,))
    if fast is None:
        return False
    assert fast == exact_memory(text)
    return True


@pytest.mark.parametrize("kind", _KINDS, ids=lambda kind: kind.name)
def test_every_kind_has_a_fast_layout_without_groups(kind: _kinds.Kind) -> None:
    assert kind.fast is not None
    assert re.compile(kind.fast).groups == 0
    assert "\n" not in re.sub(r"\[\^[^]]*\]", "", kind.fast.replace("\\n", "\n"))


@pytest.mark.parametrize(
    ("kind", "printed", "taken"),
    [
        (_kinds.KB, "    3060 kB", True),
        (_kinds.KB, "3060 kB ", False),  # valid, but not the kernel's layout: exact path
        (_kinds.IDS, "0\t0\t0\t0", True),
        (_kinds.IDS, "4294967295\t0\t0\t0", False),  # ten digits: exact path checks the range
        (_kinds.GROUPS, " ", True),
        (_kinds.GROUPS, "4 24 27 ", True),
        (_kinds.GROUPS, "", True),
        (_kinds.WORDS, "shstk wrss ", True),
        (_kinds.NAME, "a\\nb\\\\c d ", True),
        (_kinds.NAME, "a\\b", False),
        (_kinds.TEXT, "  thread vulnerable ", True),
        (_kinds.HEX_WORDS, "00000000,00000001", True),
        (_kinds.HEX_WORDS, "00000000,0000001", False),
    ],
    ids=lambda value: repr(value) if isinstance(value, str) else None,
)
def test_fast_layouts_take_the_kernel_layout(kind: _kinds.Kind, printed: str, taken: bool) -> None:
    assert kind.fast is not None
    assert (re.fullmatch(kind.fast, printed) is not None) is taken


def test_corpus_fast_path_agrees_with_the_exact_path() -> None:
    require(CORPUS_DIR)
    taken = 0
    for data in CORPUS:
        text = text_of(data)
        template = template_of(text)
        if template is not None:
            taken += assert_fast_agrees(text, template)
        block = block_of(text)
        if block is not None:
            assert assert_fast_memory_agrees(text, block) or "\nVmPeak:\t" not in text
    # Most real captures are printed exactly as the kernel prints: the fast path takes them.
    assert taken >= len(CORPUS) // 2


def test_corpus_through_the_public_functions_is_the_exact_result() -> None:
    require(CORPUS_DIR)
    for _ in range(3):  # the second sighting of a shape makes its template; the third uses it
        for data in CORPUS:
            text = text_of(data)
            raw = exact(text)
            if raw is None:
                with pytest.raises(StatusParseError):
                    parse_status(data)
                continue
            status = parse_status(data)
            assert {key: status.raw(key) for key in status} == raw
            assert parse_memory(data) == status.memory == exact_memory(text)


@SOME
@given(st.data())
def test_damaged_texts_fast_path_agrees_or_declines(data: st.DataObject) -> None:
    base = text_of(data.draw(DAMAGE_BASES))
    damaged = text_of(data.draw(mutated(st.just(base.encode("utf-8", "surrogateescape")))))
    template = template_of(base)
    if template is not None:
        assert_fast_agrees(damaged, template)
    block = block_of(base)
    if block is not None:
        assert_fast_memory_agrees(damaged, block)


@SOME
@given(kernel_statuses())
def test_generated_texts_take_the_fast_path(made: Generated) -> None:
    text = text_of(made.text)
    template = template_of(text)
    assert template is not None
    if re.search(r"\n(?:Uid|Gid|Groups):[^\n]*(?:[0-9]{10}|-)", text) is None:  # exact path
        assert assert_fast_agrees(text, template)
    block = block_of(text)
    if block is not None:
        assert assert_fast_memory_agrees(text, block)


def test_errors_are_the_same_once_the_shape_is_known() -> None:
    good = "Name:\tx\nPid:\t7\nVmPeak:\t    8 kB\nVmRSS:\t    4 kB\nThreads:\t1\n"
    for _ in range(3):
        parse_status(good)
        parse_memory(good)
    bad = good.replace("Pid:\t7", "Pid:\tseven")
    with pytest.raises(StatusParseError, match=r"^line 2 \(Pid\): expected a decimal number"):
        parse_status(bad)
    twice = good + "VmRSS:\t    4 kB\n"
    with pytest.raises(StatusParseError, match=r"^line 6 \(VmRSS\): the field appears twice"):
        parse_memory(twice)


def test_fast_values_are_a_read_only_mapping_in_file_order() -> None:
    text = "Name:\t a:\tb \nUmask:\t0022\nGroups:\t4 24 \nVmRSS:\t     512 kB\n"
    template = _parse._template(("Name", "Umask", "Groups", "VmRSS"))
    values = _parse._parse_known_shape(text, (template,))

    assert values is not None
    assert list(values) == ["Name", "Umask", "Groups", "VmRSS"]
    assert len(values) == 4
    assert "VmRSS" in values
    assert "VmSwap" not in values
    assert values.get("VmSwap") is None
    assert dict(values) == {"Name": " a:\tb ", "Umask": "0022", "Groups": "4 24", "VmRSS": "512 kB"}
    with pytest.raises(KeyError):
        values["VmSwap"]


def test_parse_memory_gives_back_the_same_memory_for_the_same_lines() -> None:
    text = "Name:\tx\nVmPeak:\t    8 kB\nVmRSS:\t    4 kB\n"
    block = _parse._memory_block(("VmPeak", "VmRSS"))

    first = _parse._parse_known_memory_block(text, (block,))
    again = _parse._parse_known_memory_block(text, (block,))
    changed = _parse._parse_known_memory_block(text.replace("4 kB", "5 kB"), (block,))

    assert first == Memory(peak_size=8192, rss=4096)
    assert again is first
    assert changed == Memory(peak_size=8192, rss=5120)


def test_a_longer_memory_block_is_not_hidden_by_a_shorter_one() -> None:
    text = "Name:\tx\nVmPeak:\t    8 kB\nVmSize:\t    8 kB\nVmRSS:\t    4 kB\n"
    short = _parse._memory_block(("VmPeak", "VmSize"))
    full = _parse._memory_block(("VmPeak", "VmSize", "VmRSS"))

    memory = _parse._parse_known_memory_block(text, (short, full))

    assert memory == Memory(peak_size=8192, size=8192, rss=4096)


def test_a_template_pushed_out_of_the_cache_can_be_learned_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_parse, "_templates", ())
    monkeypatch.setattr(_parse, "_seen_shapes", {})
    texts = [f"Name:\tx\nPid:\t1\nExtra{n}:\tyes\n" for n in range(_parse._MAX_TEMPLATES + 1)]
    for text in texts:  # the second sighting of each makes its template
        parse_status(text)
        parse_status(text)
    first_keys = ("Name", "Pid", "Extra0")
    assert first_keys not in [template.keys for template in _parse._templates]  # pushed out

    parse_status(texts[0])
    parse_status(texts[0])

    assert first_keys in [template.keys for template in _parse._templates]
