"""Check the built wheel and sdist hold what users and packagers rely on.

Usage: ``python scripts/check_dist.py DIST_DIR`` (the directory ``python -m build``
wrote one wheel and one sdist to). Run by scripts/test; exits 1 listing every
problem found.

The wheel must carry ``py.typed`` (PEP 561: without it type checkers ignore the
annotations), the licence file and the ``License-Expression`` metadata (PEP 639),
and no tests. The sdist must carry what its own test suite reads (tests/,
scripts/, benchmarks/, docs/), so that ``pytest`` runs from it unpacked.
"""

from __future__ import annotations

import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

LICENSE_EXPRESSION = "MIT"

#: Files every sdist must have, relative to its top directory.
SDIST_FILES = (
    "LICENSE",
    "README.md",
    "CHANGELOG.md",
    "pyproject.toml",
    "PKG-INFO",
    "src/procstatus/py.typed",
    "tests/conftest.py",
    "scripts/fields_doc.py",
    "scripts/_generated.py",
    "benchmarks/bench.py",
    "docs/fields.md",
)


def check_metadata(text: str, where: str) -> list[str]:
    """Problems with the core metadata ``text`` (METADATA or PKG-INFO) of ``where``."""
    metadata = Parser().parsestr(text)
    problems = []
    if metadata.get("License-Expression") != LICENSE_EXPRESSION:
        found = metadata.get("License-Expression")
        problems.append(f"{where}: License-Expression is {found!r}, not {LICENSE_EXPRESSION!r}")
    if "LICENSE" not in (metadata.get_all("License-File") or []):
        problems.append(f"{where}: no License-File: LICENSE")
    classifiers = metadata.get_all("Classifier") or []
    for version in ("3.9", "3.10", "3.11", "3.12", "3.13"):
        if f"Programming Language :: Python :: {version}" not in classifiers:
            problems.append(f"{where}: no classifier for Python {version}")
    return problems


def check_wheel(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as wheel:
        names = set(wheel.namelist())
        (info,) = {name.split("/")[0] for name in names if ".dist-info/" in name}
        problems = check_metadata(wheel.read(f"{info}/METADATA").decode("utf-8"), path.name)
    for needed in ("procstatus/py.typed", "procstatus/__init__.py", f"{info}/licenses/LICENSE"):
        if needed not in names:
            problems.append(f"{path.name}: no {needed}")
    problems.extend(f"{path.name}: holds {name}" for name in names if name.startswith("tests/"))
    return problems


def check_sdist(path: Path) -> list[str]:
    with tarfile.open(path) as sdist:
        names = set(sdist.getnames())
        top = min(names).split("/")[0]
        pkg_info = sdist.extractfile(f"{top}/PKG-INFO")
        assert pkg_info is not None
        problems = check_metadata(pkg_info.read().decode("utf-8"), path.name)
    problems.extend(
        f"{path.name}: no {needed}" for needed in SDIST_FILES if f"{top}/{needed}" not in names
    )
    problems.extend(f"{path.name}: holds {name}" for name in names if "__pycache__" in name)
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    dist = Path(argv[0])
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"expected one wheel and one sdist in {dist}, found {wheels + sdists}")
        return 1
    problems = check_wheel(wheels[0]) + check_sdist(sdists[0])
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"{wheels[0].name} and {sdists[0].name}: licence, py.typed, metadata and files present")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
