"""The contract is checked by tools nobody here wrote: optic (no breaking change since the last
released document unless the major version changed) and Spectral (.spectral.yaml: zero errors).

Both come from npm (package.json, `make node`); `make test` installs them first. A missing tool
fails these tests: they are never skipped.
"""

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # Node tools / generated cases: not the inner loop

NODE_BIN = ROOT / "node_modules" / ".bin"
RELEASED = ROOT / "contract" / "released"
OFFLINE = {"OPTIC_TELEMETRY_LEVEL": "off", "NO_UPDATE_NOTIFIER": "1"}


def _tool(name: str) -> Path:
    path = NODE_BIN / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make node` (npm ci) first")
    return path


def _version(path: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in path.stem.removeprefix("openapi-").split("."))


def _last_released() -> dict[str, Any]:
    documents = sorted(RELEASED.glob("openapi-*.json"), key=_version)
    assert documents, f"no released contract in {RELEASED}"
    released: dict[str, Any] = json.loads(documents[-1].read_text(encoding="utf-8"))
    return released


def _optic_diff(tmp_path: Path, before: dict[str, Any], after: dict[str, Any]) -> tuple[int, str]:
    (tmp_path / "before.json").write_text(json.dumps(before), encoding="utf-8")
    (tmp_path / "after.json").write_text(json.dumps(after), encoding="utf-8")
    result = subprocess.run(  # noqa: S603 - our own pinned tool and temporary files
        [
            str(_tool("optic")),
            "diff",
            str(tmp_path / "before.json"),
            str(tmp_path / "after.json"),
            "--check",
            "--standard",
            str(ROOT / "contract" / "optic.yml"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **OFFLINE},
        timeout=1800,  # a bound on a hung tool only: optic took 350 s on a loaded machine
        check=False,
    )
    return result.returncode, result.stdout + result.stderr


def _spectral_errors(tmp_path: Path, document: dict[str, Any]) -> list[dict[str, Any]]:
    """Spectral's errors for ``document``, linted as ``openapi.json`` beside the project ruleset
    (its overrides name that file)."""
    (tmp_path / "openapi.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    (tmp_path / ".spectral.yaml").write_text(
        (ROOT / ".spectral.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (tmp_path / "node_modules").symlink_to(ROOT / "node_modules")
    result = subprocess.run(  # noqa: S603
        [str(_tool("spectral")), "lint", "openapi.json", "--format", "json", "--quiet"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=1800,  # a bound on a hung tool only: optic took 350 s on a loaded machine
        check=False,
    )
    assert result.stdout.strip(), result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return [item for item in found if item["severity"] == 0]


def _without_response_property(document: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    read = changed["components"]["schemas"]["OrganisationRead"]
    del read["properties"]["name"]
    read["required"].remove("name")
    return changed


def _with_new_required_request_property(document: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    put = changed["components"]["schemas"]["OrganisationPut"]
    put["properties"]["region"] = {"type": "string", "maxLength": 50}
    put["required"].append("region")
    return changed


def _with_narrowed_request_type(document: dict[str, Any]) -> dict[str, Any]:
    """An organisation type the API accepted is no longer accepted."""
    changed = copy.deepcopy(document)
    changed["components"]["schemas"]["OrganisationType"]["enum"].remove("trust")
    return changed


def _with_retyped_request_property(document: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["components"]["schemas"]["RubricScores"]["properties"]["aim"]["type"] = "string"
    return changed


# Each breaking change and the optic rule that must name it.
BREAKING = {
    _without_response_property: "cannot remove response property 'name'",
    _with_new_required_request_property: "cannot add a required request property 'region'",
    _with_narrowed_request_type: "cannot remove enum option 'trust'",
    _with_retyped_request_property: "request body property 'aim' not to be narrowed",
}


async def test_the_served_document_keeps_the_last_released_contract(
    app: FastAPI, tmp_path: Path
) -> None:
    served = json.loads(json.dumps(app.openapi()))
    returncode, output = _optic_diff(tmp_path, _last_released(), served)
    assert returncode == 0, output


def test_each_breaking_change_fails_the_check(tmp_path: Path) -> None:
    """One optic run (it is slow to start) over a copy with all four changes: each is named."""
    released = _last_released()
    changed = released
    for breaking_change in BREAKING:
        changed = breaking_change(changed)
    returncode, output = _optic_diff(tmp_path, released, changed)
    assert returncode != 0, output
    missing = [reason for reason in BREAKING.values() if reason not in output]
    assert missing == [], output


def test_a_breaking_change_passes_with_a_new_major_version(tmp_path: Path) -> None:
    released = _last_released()
    changed = released
    for breaking_change in BREAKING:
        changed = breaking_change(changed)
    major = int(released["info"]["version"].split(".")[0])
    changed["info"]["version"] = f"{major + 1}.0.0"
    returncode, output = _optic_diff(tmp_path, released, changed)
    assert returncode == 0, output


async def test_the_served_document_has_no_spectral_error(app: FastAPI, tmp_path: Path) -> None:
    errors = _spectral_errors(tmp_path, json.loads(json.dumps(app.openapi())))
    assert [f"{e['code']}: {'/'.join(map(str, e['path']))}" for e in errors] == []


async def test_the_project_ruleset_finds_what_it_forbids(app: FastAPI, tmp_path: Path) -> None:
    document = json.loads(json.dumps(app.openapi()))
    read = document["components"]["schemas"]["OrganisationRead"]["properties"]
    read["parent_code"] = {"type": "string", "maxLength": 10}
    read["remarks"] = {"type": "string"}
    listing = document["paths"]["/organisations"]["get"]
    del listing["description"]
    del listing["responses"]["429"]
    listing["parameters"].append(
        {"name": "updated_since", "in": "query", "schema": {"type": "string", "format": "date"}}
    )
    codes = {error["code"] for error in _spectral_errors(tmp_path, document)}
    assert {
        "iqt-property-names-lower-camel-case",
        "iqt-parameter-names-lower-camel-case",
        "iqt-operation-description",
        "iqt-problem-429",
        "iqt-bounded-strings",
    } <= codes
