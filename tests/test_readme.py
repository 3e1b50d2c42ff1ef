"""The front door stays true: README's `iqt` table is the command's own list, and every
relative link in the repository's Markdown files points at something that exists."""

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from app.cli import cli
from tests.conftest import ROOT

README = ROOT / "README.md"
MARKDOWN = [
    path
    for path in ROOT.rglob("*.md")
    if not any(part in {".venv", "node_modules", ".git", ".pytest_cache"} for part in path.parts)
]
# [text](target) — the target up to a space or the closing parenthesis.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)[^)]*\)")


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, set[str]]]:
    """Every command of `iqt` (``clients create``, ...) with its options."""
    if hasattr(command, "commands"):  # a group (typer ships its own click: no isinstance)
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
        return
    options = {opt for param in command.params for opt in param.opts if opt.startswith("--")}
    yield " ".join(path), options


def _readme_rows() -> dict[str, str]:
    """Command → the README table's first cell, for rows of the `iqt` table."""
    section = README.read_text(encoding="utf-8").split("## The `iqt` command", 1)[1]
    section = section.split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for cell in re.findall(r"^\| `iqt ([^`]*)`", section, flags=re.MULTILINE):
        words = [w for w in cell.split() if re.fullmatch(r"[a-z][a-z-]*", w)]
        rows[" ".join(words)] = cell
    return rows


def test_the_readme_lists_every_iqt_command_with_its_options() -> None:
    commands = dict(_commands(typer.main.get_command(cli)))
    rows = _readme_rows()
    assert sorted(rows) == sorted(commands), "README's `iqt` table and `iqt --help` differ"
    missing = {
        name: sorted(option for option in options if option not in rows[name])
        for name, options in commands.items()
    }
    assert {name: options for name, options in missing.items() if options} == {}


def _relative_links(path: Path) -> Iterator[str]:
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # code blocks hold no links
    for target in LINK.findall(text):
        if not re.match(r"[a-z][a-z0-9+.-]*:", target) and not target.startswith("#"):
            yield target


def test_every_relative_link_in_the_markdown_files_resolves() -> None:
    broken = [
        f"{path.relative_to(ROOT)}: {target}"
        for path in MARKDOWN
        for target in _relative_links(path)
        if not (path.parent / target.split("#", 1)[0]).exists()
    ]
    assert broken == []


@pytest.mark.parametrize("guide", [README, ROOT / "docs" / "contributing.md"], ids=lambda p: p.name)
def test_the_readme_names_the_latest_migration_and_the_next_free_id(guide: Path) -> None:
    ids = sorted(
        re.search(r"-(\d{4})_", path.name).group(1)  # type: ignore[union-attr]
        for path in (ROOT / "migrations" / "versions").glob("*.py")
    )
    text = guide.read_text(encoding="utf-8")
    latest = re.search(r"`(\d{4})`\s+is the latest", text)
    assert latest is not None and latest.group(1) == ids[-1]
    following = f"{int(ids[-1]) + 1:04d}"
    assert re.findall(r"--rev-id (\d{4})", text) == [following]
    assert re.findall(r"`\d{4}_\d{2}_\d{2}_\d{4}-(\d{4})_\w+\.py`", text) == [following]


def test_the_readme_links_the_contributing_guide() -> None:
    contributing = README.read_text(encoding="utf-8").split("## Contributing", 1)[1]
    assert "(docs/contributing.md)" in contributing.split("\n## ", 1)[0]
