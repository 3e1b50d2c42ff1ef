"""docs/security.md maps each OWASP API Security Top 10 (2023) risk to the tests that show the
defence: every test it names must exist, so the map cannot rot."""

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

DOCUMENT = ROOT / "docs" / "security.md"
TEST_ID = re.compile(r"^- (tests/[\w/]+\.py)::(\w+(?:::\w+)?)", re.MULTILINE)
SECTION = re.compile(r"^## (API\d+):2023 ", re.MULTILINE)


def _sections() -> dict[str, str]:
    text = DOCUMENT.read_text(encoding="utf-8")
    starts = [(m.group(1), m.start()) for m in SECTION.finditer(text)]
    ends = [start for _, start in starts[1:]] + [len(text)]
    return {name: text[start:end] for (name, start), end in zip(starts, ends, strict=True)}


def _tests_in(path: Path) -> set[str]:
    """Test ids of a file as pytest names them: functions, and Class::method."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            found.add(node.name)
        elif isinstance(node, ast.ClassDef):
            found |= {
                f"{node.name}::{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
            }
    return {name for name in found if name.split("::")[-1].startswith("test")}


def _listed() -> list[tuple[str, str]]:
    return TEST_ID.findall(DOCUMENT.read_text(encoding="utf-8"))


def test_every_one_of_the_ten_risks_has_a_section_with_tests() -> None:
    sections = _sections()
    assert list(sections) == [f"API{n}" for n in range(1, 11)]
    assert [name for name, text in sections.items() if not TEST_ID.search(text)] == []


def test_every_listed_test_exists() -> None:
    listed = _listed()
    assert len(listed) > 50
    missing = [
        f"{path}::{name}"
        for path, name in listed
        if not (ROOT / path).is_file() or name not in _tests_in(ROOT / path)
    ]
    assert missing == []


def test_every_security_test_is_listed() -> None:
    listed = set(_listed())
    unlisted = [
        f"{path.relative_to(ROOT)}::{name}"
        for path in sorted((ROOT / "tests" / "security").glob("test_*.py"))
        for name in sorted(_tests_in(path))
        if (str(path.relative_to(ROOT)), name) not in listed
    ]
    assert unlisted == []


def test_the_check_sees_a_missing_test(tmp_path: Path) -> None:
    sample = tmp_path / "test_sample.py"
    sample.write_text(
        "def test_here():\n    pass\n\nclass TestGroup:\n    def test_in(self): ...\n"
    )
    assert _tests_in(sample) == {"test_here", "TestGroup::test_in"}
    assert "test_gone" not in _tests_in(sample)
