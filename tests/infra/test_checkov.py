"""checkov's Bicep policies over infra/, with the commented skip list in infra/.checkov.yaml.

checkov lives in its own venv (.venv-checkov, made by `make deps`) because its pins clash with
requirements-dev.txt. `make test` sets PROW_REQUIRE_CHECKOV=1, so there a missing checkov is a failure;
a bare `pytest` without that venv skips with the reason.
"""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.infra import bicep as b

CHECKOV = b.ROOT / ".venv-checkov" / "bin" / "checkov"
CONFIG = b.INFRA / ".checkov.yaml"


@pytest.fixture(scope="module")
def report() -> dict:
    if not CHECKOV.exists():
        if os.environ.get("PROW_REQUIRE_CHECKOV"):
            pytest.fail(f"{CHECKOV} is missing: `make deps` creates it")
        pytest.skip("checkov venv not installed (`make deps`)")
    # checkov exits 0 on a Bicep parse error, so test_bicep's pycep parse is the syntax gate and this
    # test reads the report instead of the exit code.
    run = subprocess.run([str(CHECKOV), "--config-file", str(CONFIG), "-d", str(b.INFRA), "-o", "json"],
                         capture_output=True, text=True, timeout=240, cwd=b.ROOT,
                         env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"})
    data = json.loads(run.stdout)
    return data if isinstance(data, dict) else next(d for d in data if d.get("check_type") == "bicep")


def test_checkov_parses_every_file_and_finds_nothing_outside_the_skip_list(report):
    summary = report["summary"]
    failed = [f"{c['check_id']} {c['resource']} ({c['file_path']}): {c['check_name']}"
              for c in report["results"]["failed_checks"]]
    assert summary["parsing_errors"] == 0
    assert not failed, "fix these or add them to infra/.checkov.yaml with a reason:\n" + "\n".join(failed)


def test_checkov_scanned_every_bicep_file(report):
    scanned = {c["file_path"].lstrip("/") for c in report["results"]["passed_checks"]}
    # checkov has policies for these types (none for deployment scripts or identities)
    policed = {"Microsoft.Storage/storageAccounts", "Microsoft.Web/sites", "Microsoft.KeyVault/vaults",
               "Microsoft.ContainerService/managedClusters"}
    expected = {str(p.relative_to(b.INFRA)) for p in b.bicep_files()
                if any(not r["existing"] and r["type"] in policed for r in b.parse(p)["resources"].values())}
    assert "main.bicep" in expected
    assert expected <= scanned
    assert report["summary"]["passed"] >= 30


def test_every_skip_has_a_reason():
    lines = CONFIG.read_text().splitlines()
    start = lines.index("skip-check:")
    for i, line in enumerate(lines[start + 1:], start + 1):
        if line.strip().startswith("- CKV"):
            commented = "#" in line or any(lines[j].strip().startswith("#") for j in range(max(start, i - 3), i))
            assert commented, f".checkov.yaml:{i + 1}: {line.strip()} has no reason"
