"""`python -m shared.cli checkconfig` on the real corpora and on copies with planted mistakes."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from shared.cli import checkconfig
from tests.conftest import CORPUS, ROOT

CONFIGS = CORPUS / "prow-configs"
# What kubernetes/test-infra's own checkconfig job passes (config/jobs/.../test-infra-checkconfig.yaml).
KUBERNETES_CI_WARNINGS = [
    "--warnings=mismatched-tide-lenient", "--warnings=tide-strict-branch", "--warnings=needs-ok-to-test",
    "--warnings=validate-owners", "--warnings=missing-trigger", "--warnings=validate-urls",
    "--warnings=unknown-fields", "--warnings=duplicate-job-refs", "--warnings=unknown-fields-all",
    "--warnings=non-decorated-jobs", "--warnings=valid-decoration-config",
]


def corpus_args(root: Path, *extra: str) -> list[str]:
    return ["--config-path", str(root / "config.yaml"), "--job-config-path", str(root / "jobs"),
            "--plugin-config", str(root / "plugins.yaml"), *extra]


def run(capsys, argv: list[str]) -> tuple[int, str]:
    code = checkconfig.main(argv)
    return code, capsys.readouterr().out


def run_json(capsys, argv: list[str]) -> tuple[int, dict]:
    code, out = run(capsys, [*argv, "--output", "json"])
    return code, json.loads(out)


@pytest.fixture
def metal3_copy(tmp_path) -> Path:
    root = tmp_path / "metal3"
    shutil.copytree(CONFIGS / "metal3", root)
    return root


def lines_of(path: Path) -> int:
    return len(path.read_text().splitlines())


def append(path: Path, text: str) -> int:
    """Append text; returns the line number of its first line."""
    first = lines_of(path) + 1
    with open(path, "a") as f:
        f.write(text)
    return first


def test_metal3_passes_strict_with_its_counts(capsys):
    code, report = run_json(capsys, corpus_args(CONFIGS / "metal3", "--strict"))
    assert code == 0, report["errors"] + report["warnings"]
    assert report["valid"] is True
    assert (report["presubmits"], report["postsubmits"], report["periodics"]) == (628, 0, 4)
    # 207 kubernetes presubmits and 4 periodics (agent kubernetes by default), 421 jenkins presubmits.
    assert report["agents"] == {"jenkins": 421, "kubernetes": 211}
    assert report["errors"] == [] and report["warnings"] == []
    jenkins = [n for n in report["notices"] if "agent jenkins" in n["message"]]
    assert len(jenkins) == 1 and jenkins[0]["message"].startswith("421 job(s)")
    assert set(jenkins[0]) == {"file", "line", "message", "severity", "kind"}


def test_metal3_ci_invocation_as_a_subprocess():
    """The exact flags metal3's check-prow-config job passes, through the real command line."""
    root = CONFIGS / "metal3"
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli", "checkconfig", "--config-path", str(root / "config.yaml"),
         "--plugin-config", str(root / "plugins.yaml"), "--job-config-path", str(root / "jobs"), "--strict"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("checkconfig: valid")


KUBERNETES_COUNTS = (2261, 253, 1335)  # presubmits, postsubmits, periodics


def test_kubernetes_passes_with_its_ci_flags(capsys):
    code, report = run_json(capsys, corpus_args(CONFIGS / "kubernetes", "--strict", *KUBERNETES_CI_WARNINGS))
    assert code == 0, report["errors"][:5] + report["warnings"][:5]
    assert report["errors"] == [] and report["warnings"] == []
    assert (report["presubmits"], report["postsubmits"], report["periodics"]) == KUBERNETES_COUNTS
    assert sum(report["agents"].values()) == sum(KUBERNETES_COUNTS)
    unchecked = [n for n in report["notices"] if n["file"] == "checkconfig"]
    assert len(unchecked) == 1 and "mismatched-tide-lenient" in unchecked[0]["message"]


def test_kubernetes_default_warnings_fail_strict_as_in_prow(capsys):
    """Prow's default set includes long-job-names and periodic-default-clone-config, which the
    kubernetes jobs do not satisfy; that is why its CI passes an explicit --warnings list."""
    code, report = run_json(capsys, corpus_args(CONFIGS / "kubernetes", "--strict"))
    assert code == 1 and report["errors"] == []
    assert {w["kind"] for w in report["warnings"]} == {"long-job-names", "periodic-default-clone-config"}
    assert all(w["file"].endswith(".yaml") and w["line"] for w in report["warnings"])
    code, _ = run(capsys, corpus_args(CONFIGS / "kubernetes"))
    assert code == 0


def test_bad_yaml_in_a_job_file(capsys, metal3_copy):
    broken = metal3_copy / "jobs" / "metal3-io" / "broken.yaml"
    broken.write_text("presubmits:\n  metal3-io/community:\n  - name: lint\n    branches: [main\n")
    code, out = run(capsys, corpus_args(metal3_copy))
    assert code == 1
    error_lines = [line for line in out.splitlines() if ": error: " in line]
    assert len(error_lines) == 1
    assert error_lines[0].startswith(f"{broken}:")
    assert int(error_lines[0].split(":")[1]) >= 4


def test_bad_regex_in_a_job(capsys, metal3_copy):
    jobs = metal3_copy / "jobs" / "metal3-io" / "project-infra.yaml"
    first = append(jobs, "  - name: bad-regex\n    run_if_changed: '(['\n    decorate: true\n"
                         "    spec:\n      containers:\n      - image: alpine\n        command: [\"true\"]\n")
    code, report = run_json(capsys, corpus_args(metal3_copy))
    assert code == 1
    assert [(e["file"], e["line"]) for e in report["errors"]] == [(str(jobs), first + 1)]  # run_if_changed
    assert "run_if_changed" in report["errors"][0]["message"]


def test_duplicate_job_on_the_same_branch(capsys, metal3_copy):
    jobs = metal3_copy / "jobs" / "metal3-io" / "project-infra.yaml"
    first = append(jobs, "  - name: markdownlint\n    always_run: true\n    decorate: true\n"
                         "    spec:\n      containers:\n      - image: alpine\n        command: [\"true\"]\n")
    code, out = run(capsys, corpus_args(metal3_copy))
    assert code == 1
    errors = [line for line in out.splitlines() if ": error: " in line]
    assert len(errors) == 1 and "markdownlint" in errors[0]
    assert errors[0].startswith(f"{jobs}:{first}: error: ")
    assert f"{jobs}:22" in errors[0]  # where the first definition is


def test_unknown_field_in_config_is_a_warning_that_fails_only_strict(capsys, metal3_copy):
    config = metal3_copy / "config.yaml"
    config.write_text(config.read_text().replace("  resync_period: 1m\n", "  resync_period: 1m\n  resync_perod: 1m\n"))
    code, out = run(capsys, corpus_args(metal3_copy))
    assert code == 0
    warnings = [line for line in out.splitlines() if ": warning[unknown-fields]: " in line]
    assert len(warnings) == 1 and warnings[0].startswith(f"{config}:8:")
    code, out = run(capsys, corpus_args(metal3_copy, "--strict"))
    assert code == 1
    assert "--strict is set and there were warnings" in out
    # Excluding the warning makes it pass again.
    code, _ = run(capsys, corpus_args(metal3_copy, "--strict", "--exclude-warning=unknown-fields"))
    assert code == 0


def test_unknown_field_in_plugins_fails_strict(capsys, metal3_copy):
    plugins = metal3_copy / "plugins.yaml"
    line = append(plugins, "blunderbus:\n  request_count: 2\n")
    code, report = run_json(capsys, corpus_args(metal3_copy, "--strict"))
    assert code == 1 and report["valid"] is False
    assert [(w["file"], w["line"], w["kind"]) for w in report["warnings"]] == [(str(plugins), line, "unknown-fields")]


def test_plugin_at_org_and_repo_level(capsys, metal3_copy):
    plugins = metal3_copy / "plugins.yaml"
    text = plugins.read_text()
    plugins.write_text(text.replace("  metal3-io/ironic-image:\n", "  metal3-io/ironic-image:\n    plugins:\n    - lgtm\n"))
    line = text.splitlines().index("  metal3-io/ironic-image:") + 3
    code, out = run(capsys, corpus_args(metal3_copy))
    assert code == 1
    assert f"{plugins}:{line}: error: plugin(s) lgtm enabled for metal3-io/ironic-image" in out


def test_several_mistakes_are_all_reported_errors_first(capsys, metal3_copy):
    (metal3_copy / "jobs" / "broken.yaml").write_text("periodics:\n- name: x\n  interval: [1h\n")
    jobs = metal3_copy / "jobs" / "metal3-io" / "project-infra.yaml"
    append(jobs, "  - name: bad-regex\n    run_if_changed: '(['\n    decorate: true\n"
                 "    spec:\n      containers:\n      - image: alpine\n        command: [\"true\"]\n")
    plugins = metal3_copy / "plugins.yaml"
    plugins.write_text(plugins.read_text().replace("  metal3-io/ironic-image:\n",
                                                   "  metal3-io/ironic-image:\n    plugins: [hold]\n"))
    append(plugins, "blunderbus: {}\n")
    config = metal3_copy / "config.yaml"
    config.write_text(config.read_text().replace("log_level: debug\n", "log_level: debug\nlog_levle: info\n"))

    code, out = run(capsys, corpus_args(metal3_copy, "--strict"))
    assert code == 1
    lines = out.splitlines()
    kinds = [line.split(": ")[1] for line in lines if line.startswith("/")]
    assert kinds.count("error") == 3
    assert kinds.count("warning[unknown-fields]") == 2
    assert kinds.index("warning[unknown-fields]") > max(i for i, k in enumerate(kinds) if k == "error")
    assert lines[-2].startswith("3 error(s), 2 warning(s)")
    assert lines[-1] == "checkconfig: INVALID"


@pytest.mark.parametrize("argv, message", [
    ([], "--config-path is mandatory"),
    (["--config-path", "x", "--warnings=no-such-warning"], "no such warning 'no-such-warning'"),
    (["--config-path", "x", "--no-such-flag"], "unrecognized arguments"),
    (["--config-path", "x", "--strict=maybe"], "invalid boolean value"),
    (["--config-path", "x", "--supplemental-prow-config-dir", "d"], "not supported yet"),
])
def test_bad_usage_exits_2(capsys, argv, message):
    assert checkconfig.main(argv) == 2
    assert message in capsys.readouterr().err


def test_prow_flags_it_does_not_need_are_accepted(capsys):
    root = CONFIGS / "metal3"
    code, _ = run(capsys, ["-config-path", str(root / "config.yaml"), "-job-config-path=" + str(root / "jobs"),
                           "--plugin-config", str(root / "plugins.yaml"), "--strict=true",
                           "--github-token-path=/etc/github/oauth", "--github-endpoint=http://ghproxy",
                           "--github-endpoint=https://api.github.com", "--warnings=unknown-fields,validate-urls",
                           "--include-default-warnings", "--expensive-checks=false"])
    assert code == 0


def test_enabled_warnings_follow_prow():
    from shared.config.loader import ALL_WARNINGS, DEFAULT_WARNINGS
    assert checkconfig.enabled_warnings([], [], include_defaults=False, expensive=False) == list(DEFAULT_WARNINGS)
    assert checkconfig.enabled_warnings(["unknown-fields-all"], [], include_defaults=False, expensive=False) == [
        "unknown-fields-all"]
    assert "unknown-fields-all" in checkconfig.enabled_warnings(
        ["unknown-fields-all"], [], include_defaults=True, expensive=False)
    assert checkconfig.enabled_warnings([], [], include_defaults=False, expensive=True) == list(ALL_WARNINGS)
    assert "unknown-fields" not in checkconfig.enabled_warnings([], ["unknown-fields"], include_defaults=False,
                                                                 expensive=False)


def test_missing_trigger_and_validate_owners_warnings(capsys, metal3_copy):
    plugins = metal3_copy / "plugins.yaml"
    text = plugins.read_text()
    nordix = text.index("  Nordix:\n")
    nordix_block = text[nordix:text.index("  Nordix/metal3-clusterapi-docs:")]
    edited = nordix_block.replace("    - trigger\n", "").replace("    - verify-owners\n", "")
    plugins.write_text(text.replace(nordix_block, edited))
    code, report = run_json(capsys, corpus_args(metal3_copy, "--strict"))
    assert code == 1 and report["errors"] == []
    by_kind: dict[str, list] = {}
    for w in report["warnings"]:
        by_kind.setdefault(w["kind"], []).append(w)
    assert sorted(by_kind) == ["missing-trigger", "validate-owners"]
    assert sorted(w["message"].split(" ")[0] for w in by_kind["missing-trigger"]) == [
        "Nordix/metal3-clusterapi-docs", "Nordix/metal3-dev-tools", "Nordix/sles-ironic-python-agent-builder"]
    assert all(w["file"].startswith(str(metal3_copy / "jobs" / "Nordix")) for w in by_kind["missing-trigger"])
    [owners] = by_kind["validate-owners"]
    assert owners["file"] == str(plugins) and owners["message"].startswith("Nordix enables approve, blunderbuss")
    # Prow runs these only with a plugin config.
    code, _ = run(capsys, ["--config-path", str(metal3_copy / "config.yaml"),
                           "--job-config-path", str(metal3_copy / "jobs"), "--strict"])
    assert code == 0


def test_job_warnings_long_names_undecorated_and_required_annotations(capsys, metal3_copy):
    jobs = metal3_copy / "jobs" / "metal3-io" / "project-infra.yaml"
    long_name = "a-presubmit-with-a-name-that-is-much-too-long-for-a-kubernetes-label"
    first = append(jobs, f"  - name: {long_name}\n    always_run: true\n"
                         "    spec:\n      containers:\n      - image: alpine\n")
    code, report = run_json(capsys, corpus_args(metal3_copy, "--warnings=long-job-names,non-decorated-jobs"))
    assert code == 0
    assert sorted((w["kind"], w["line"]) for w in report["warnings"]) == [
        ("long-job-names", first), ("non-decorated-jobs", first)]
    code, report = run_json(capsys, corpus_args(CONFIGS / "metal3", "--strict", "--required-job-annotations",
                                                "testgrid-dashboards"))
    assert code == 1
    assert len(report["warnings"]) == 632
    assert {w["kind"] for w in report["warnings"]} == {"required-job-annotations"}
