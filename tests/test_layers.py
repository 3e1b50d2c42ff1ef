"""The import contracts in pyproject.toml refuse a domain calling another's write path: the
fan-out that events replaced (completions/projects -> award evaluation, staff -> completion
matching, awards -> credential revocation) cannot come back unnoticed."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (our own tool, our own arguments)
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the application package and its contracts."""
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold_for_the_code_as_it_is(tree: Path) -> None:
    result = _lint_imports(tree)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("module", "old_import"),
    [
        ("completions/service.py", "from app.awards import evaluation"),
        ("completions/matching.py", "from app.awards.evaluation import evaluate_awards"),
        ("projects/reviews.py", "from app.awards import evaluation"),
        ("staff/writes.py", "from app.completions.matching import match_unmatched_completions"),
        ("awards/evaluation.py", "from app.credentials.revocation import revoke_credentials"),
    ],
)
def test_a_domain_calling_another_domains_internals_breaks_the_contract(
    tree: Path, module: str, old_import: str
) -> None:
    path = tree / "app" / module
    path.write_text(path.read_text() + f"\n{old_import}  # noqa\n")
    result = _lint_imports(tree)
    assert result.returncode != 0
    assert "Domains talk through events, not each other's internals" in result.stdout
    assert "BROKEN" in result.stdout
