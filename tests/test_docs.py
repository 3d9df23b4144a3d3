"""Every Python example in README.md and docs/*.md runs, and passes ``mypy --strict``.

Each ```python block is a program of its own: it is written to a file and run
in a fresh interpreter (so it must import what it uses, and where it needs a
process it reads its own, ``os.getpid()``), then all of them are type-checked
together with ``mypy --strict``, as a careful user's code would be. New pages
are picked up by the glob, with no list to keep up to date.

A block that cannot run here (it needs an optional extra that is not installed,
or root, or a network) opts out with an HTML comment on the line just before
its fence, which the rendered page does not show; the reason is required:

    <!-- no-test: needs the prometheus extra (pip install procstatus[prometheus]) -->
    ```python
    ...
    ```

Nothing else skips a block.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest

from helpers_files import PROJECT_DIR, require

#: The line that opts the next block out: ``<!-- no-test: <reason> -->``.
NO_TEST = re.compile(r"\s*<!-- no-test: (?P<reason>\S.*?) -->\s*")

#: A fence line: its indentation, then three backticks and the language.
FENCE = re.compile(r"(?P<indent> *)```(?P<language>[\w-]*)\s*")


class Example(NamedTuple):
    """One ```python block of a page."""

    page: str  # relative to the project, e.g. "docs/peak.md"
    line: int  # 1-based line of its opening fence
    code: str
    skip_reason: str  # "" unless a no-test comment precedes it

    @property
    def name(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def module(self) -> str:
        """A file name mypy accepts as a module, unique per example."""
        stem = re.sub(r"\W", "_", self.page.removesuffix(".md"))
        return f"example_{stem}_{self.line}.py"


def examples_of(text: str, page: str) -> list[Example]:
    """The ```python blocks of a Markdown ``text``, their indentation removed."""
    found = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        fence = FENCE.fullmatch(lines[index])
        if fence is None:
            index += 1
            continue
        indent = fence["indent"]
        end = index + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        if end == len(lines):
            raise AssertionError(f"{page}:{index + 1}: a fence that is never closed")
        if fence["language"] == "python":
            body = [line[len(indent) :] if line.startswith(indent) else line for line in lines]
            marker = NO_TEST.fullmatch(lines[index - 1]) if index else None
            found.append(
                Example(
                    page=page,
                    line=index + 1,
                    code="\n".join(body[index + 1 : end]) + "\n",
                    skip_reason=marker["reason"] if marker else "",
                )
            )
        index = end + 1
    return found


def pages() -> list[Path]:
    docs = require(PROJECT_DIR / "docs")
    found = [require(PROJECT_DIR / "README.md"), *sorted(docs.glob("*.md"))]
    assert len(found) > 5, found  # the glob found the pages
    return found


def all_examples() -> list[Example]:
    if not (PROJECT_DIR / "docs").is_dir():
        return []  # test_the_pages_have_examples says so (or fails, under CI)
    return [
        example
        for page in pages()
        for example in examples_of(
            page.read_text(encoding="utf-8"), str(page.relative_to(PROJECT_DIR))
        )
    ]


EXAMPLES = all_examples()


def test_the_pages_have_examples() -> None:
    assert len([page for page in pages() if page.suffix == ".md"]) > 5
    assert len(EXAMPLES) > 10, EXAMPLES


#: Paths of the machine the pages were written on (its checkouts and their virtual
#: environments) that a reader's machine does not have.
LOCAL_PATH = re.compile(r"/work/|/wt-[\w-]+/|\.venvs/\w+/bin")


@pytest.mark.parametrize(
    "page", pages() if (PROJECT_DIR / "docs").is_dir() else [], ids=lambda page: page.name
)
def test_a_page_shows_no_path_of_the_machine_it_was_written_on(page: Path) -> None:
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        assert not LOCAL_PATH.search(line), f"{page.name}:{number}: {line}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[example.name for example in EXAMPLES])
def test_example_runs(example: Example, tmp_path: Path) -> None:
    if example.skip_reason:
        pytest.skip(f"no-test: {example.skip_reason}")
    path = tmp_path / example.module
    path.write_text(example.code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"{example.name} failed:\n{result.stderr}"


@pytest.mark.skipif(
    importlib.util.find_spec("mypy") is None,
    reason="mypy is not installed here (the lint extra; scripts/test runs it on the main Python)",
)
def test_examples_pass_mypy_strict(tmp_path: Path) -> None:
    checked = [example for example in EXAMPLES if not example.skip_reason]
    files = []
    for example in checked:
        path = tmp_path / example.module
        path.write_text(example.code, encoding="utf-8")
        files.append(str(path))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--config-file",
            "",  # the examples as a user's code: none of the project's settings
            "--cache-dir",
            str(tmp_path / "cache"),
            *files,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    # Name each error by the page and line it comes from.
    where = {example.module: example for example in checked}

    def locate(match: re.Match[str]) -> str:
        example = where[Path(match["file"]).name]
        return f"{example.page}:{example.line + int(match['line'])}:"

    report = re.sub(r"^(?P<file>\S+\.py):(?P<line>\d+):", locate, result.stdout, flags=re.M)
    assert result.returncode == 0, report


# ---- the extraction itself -------------------------------------------------------------


def test_examples_of_a_page() -> None:
    page = "\n".join(
        [
            "# Title",  # 1
            "```python",  # 2
            "print(1)",
            "```",
            "```console",  # 5
            "$ procstatus",
            "```",
            "- a list item:",  # 8
            "",
            "  ```python",  # 10
            "  for x in []:",
            "      pass",
            "  ```",
            "<!-- no-test: needs root -->",  # 14
            "```python",
            "import secret",
            "```",
        ]
    )
    assert examples_of(page, "p.md") == [
        Example("p.md", 2, "print(1)\n", ""),
        Example("p.md", 10, "for x in []:\n    pass\n", ""),
        Example("p.md", 15, "import secret\n", "needs root"),
    ]
    assert [example.module for example in examples_of(page, "docs/a-b.md")] == [
        "example_docs_a_b_2.py",
        "example_docs_a_b_10.py",
        "example_docs_a_b_15.py",
    ]


@pytest.mark.parametrize(
    "comment",
    ["<!-- no-test: -->", "<!-- no-test -->", "<!-- notest: x -->"],
    ids=["no-reason", "no-colon", "misspelt"],
)
def test_a_marker_needs_its_exact_form_and_a_reason(comment: str) -> None:
    (example,) = examples_of(f"{comment}\n```python\npass\n```\n", "p.md")
    assert example.skip_reason == ""


def test_an_unclosed_fence_is_an_error() -> None:
    with pytest.raises(AssertionError, match=r"^p\.md:1: a fence that is never closed$"):
        examples_of("```python\nprint(1)\n", "p.md")
