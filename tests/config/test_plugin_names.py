"""checkconfig judges the names under `plugins:` against every plugin Prow has (unknown → error with file:line);
at run time unknown names are ignored, as Prow's hook ignores them."""
from __future__ import annotations

from pathlib import Path

from shared.config.loader import load_config
from shared.plugins import plugin_names
from shared.plugins.registry import PROW_PLUGIN_NAMES
from tests.config.test_checkconfig import CONFIGS, KUBERNETES_CI_WARNINGS, corpus_args, run_json


def write(tmp_path: Path, plugins: str) -> list[str]:
    (tmp_path / "config.yaml").write_text("prowjob_namespace: prow\n")
    (tmp_path / "plugins.yaml").write_text(plugins)
    return ["--config-path", str(tmp_path / "config.yaml"), "--plugin-config", str(tmp_path / "plugins.yaml")]


def test_an_unknown_plugin_name_is_an_error_with_its_line(capsys, tmp_path):
    args = write(tmp_path, "plugins:\n  org:\n    plugins:\n    - help\n    - lgmt\n"
                           "  org/repo:\n    plugins: [shrugg]\n")
    code, report = run_json(capsys, args)
    assert code == 1 and not report["valid"]
    errors = {(e["line"], e["message"]) for e in report["errors"]}
    assert errors == {
        (5, "unknown plugin 'lgmt' enabled for org: Prow has no plugin of that name; did you mean lgtm?"),
        (7, "unknown plugin 'shrugg' enabled for org/repo: Prow has no plugin of that name; did you mean shrug?")}
    assert all(e["file"] == str(tmp_path / "plugins.yaml") for e in report["errors"])


def test_prow_plugins_not_implemented_yet_and_renamed_ones_are_notices(capsys, tmp_path):
    args = write(tmp_path, "plugins:\n  org:\n    plugins: [help, dco, transfer-issue, jira]\n")
    code, report = run_json(capsys, [*args, "--strict"])
    assert code == 0 and report["errors"] == [] and report["warnings"] == []
    notices = [n["message"] for n in report["notices"] if n["file"].endswith("plugins.yaml")]
    assert any(m.startswith("plugin dco (enabled for org) is not implemented by this app yet") for m in notices)
    assert any("transfer-issue" in m and "renamed issue-management" in m for m in notices)
    assert not any(m.startswith("plugin help ") for m in notices)
    assert sum("jira" in m for m in notices) == 1          # its own "needs a Jira server" notice only


def test_fun_plugins_needing_outside_services_are_one_notice_each_never_an_error(capsys, tmp_path):
    args = write(tmp_path, "plugins:\n  org:\n    plugins: [cat, dog, pony, yuks, config-updater]\n")
    code, report = run_json(capsys, [*args, "--strict"])
    assert code == 0 and report["errors"] == [] and report["warnings"] == []
    notices = [n["message"] for n in report["notices"] if n["file"].endswith("plugins.yaml")]
    for name in ("cat", "dog", "pony", "yuks"):
        assert sum(m.startswith(f"plugin {name} ") for m in notices) == 1, notices
        assert any(m.startswith(f"plugin {name} (enabled for org) will not run in this app: it replies with ")
                   for m in notices)
    assert not any("config-updater" in m for m in notices)      # implemented: no notice


def test_hook_ignores_unknown_names_at_run_time(tmp_path):
    write(tmp_path, "plugins:\n  org:\n    plugins: [help, no-such-plugin]\n")
    loaded = load_config(str(tmp_path / "config.yaml"), None, str(tmp_path / "plugins.yaml"))
    assert loaded.errors == []
    assert loaded.plugins.plugins_for("org", "repo") == ["help", "no-such-plugin"]


def test_every_implemented_plugin_is_a_prow_plugin():
    names = plugin_names()
    assert names.implemented <= PROW_PLUGIN_NAMES
    assert {"help", "shrug"} <= names.implemented


def test_the_corpora_still_pass(capsys):
    code, report = run_json(capsys, corpus_args(CONFIGS / "metal3", "--strict"))
    assert code == 0 and report["errors"] == [], report["errors"][:3]
    code, report = run_json(capsys, corpus_args(CONFIGS / "kubernetes", "--strict", *KUBERNETES_CI_WARNINGS))
    assert code == 0 and report["errors"] == [], report["errors"][:3]
