"""plugins.yaml: both syntaxes, enablement per repo, external plugins, validation with lines."""
from __future__ import annotations

import textwrap

import pytest

from shared.config.errors import Diagnostics
from shared.config.plugins import PluginConfig, parse_plugin_config
from shared.config.yamlnodes import load_yaml
from tests.conftest import CORPUS

PROW_CONFIGS = CORPUS / "prow-configs"


def parse(text: str) -> tuple[PluginConfig, Diagnostics]:
    doc, _ = load_yaml(textwrap.dedent(text), "plugins.yaml")
    diags = Diagnostics()
    return parse_plugin_config(doc, "plugins.yaml", diags), diags


def messages(diags: Diagnostics, severity: str = "error") -> list[str]:
    return [str(d) for d in diags.items if d.severity == severity]


def test_legacy_list_syntax():
    config, diags = parse("""
        plugins:
          acme: [lgtm, approve]
          acme/widgets: [trigger]
    """)
    assert diags.errors == []
    assert config.legacy_syntax
    assert config.plugins_for("acme", "widgets") == ["lgtm", "approve", "trigger"]
    assert config.plugins_for("acme", "other") == ["lgtm", "approve"]
    assert config.plugins_for("elsewhere", "repo") == []
    assert any("deprecated list syntax" in m for m in messages(diags, "notice"))


def test_map_syntax_with_excluded_repos_and_null_keys():
    config, diags = parse("""
        plugins:
          acme:
            plugins: [lgtm, approve, hold]
            excluded_repos: [legacy]
          acme/legacy:
            plugins: [lgtm]
          acme/widgets:
    """)
    assert diags.errors == []
    assert not config.legacy_syntax
    assert config.plugins_for("acme", "widgets") == ["lgtm", "approve", "hold"]
    # The org list does not apply to an excluded repo; its own list does (and is no duplicate).
    assert config.plugins_for("acme", "legacy") == ["lgtm"]


def test_mixing_the_two_syntaxes_is_an_error_on_the_list_entry():
    _, diags = parse("""
        plugins:
          acme:
            plugins: [lgtm]
          acme/widgets: [trigger]
    """)
    assert messages(diags) == [
        "plugins.yaml:5: plugins for acme/widgets use the list syntax while other entries use "
        "`plugins:`/`excluded_repos:`; Prow reads one syntax per file: write `acme/widgets: {plugins: [...]}`"]


def test_plugin_at_org_and_repo_level_is_an_error_with_the_repo_line():
    _, diags = parse("""
        plugins:
          acme:
            plugins:
            - lgtm
            - hold
          acme/widgets:
            plugins:
            - trigger
            - hold
    """)
    assert messages(diags) == [
        "plugins.yaml:10: plugin(s) hold enabled for acme/widgets are already enabled for its org acme "
        "(line 6); list each plugin at one level"]


def test_plugin_at_org_and_excluded_repo_is_fine():
    _, diags = parse("""
        plugins:
          acme: {plugins: [hold], excluded_repos: [widgets]}
          acme/widgets: {plugins: [hold]}
    """)
    assert diags.errors == []


@pytest.mark.parametrize("text, line", [
    ("plugins:\n  acme: [blunderbuss, rifle]\n", 2),
    ("plugins:\n  acme:\n    plugins: [blunderbuss]\n  acme/widgets:\n    plugins:\n    - rifle\n", 6),
])
def test_blunderbuss_and_rifle_together_is_an_error(text, line):
    _, diags = parse(text)
    assert len(diags.errors) == 1
    assert diags.errors[0].line == line
    assert "blunderbuss and rifle are both enabled" in diags.errors[0].message


def test_external_plugins_selection_and_defaults():
    config, diags = parse("""
        plugins:
          acme: {plugins: [lgtm], excluded_repos: [widgets]}
        external_plugins:
          acme:
          - name: needs-rebase
            events: [pull_request, issue_comment]
          acme/widgets:
          - name: cherrypicker
            endpoint: http://cherrypicker.svc:8080
          - name: copilot-review
            events: [issue_comment]
    """)
    assert diags.errors == []
    # excluded_repos does not apply to external plugins; org entries come first.
    names = [p.name for p in config.external_plugins_for("acme", "widgets")]
    assert names == ["needs-rebase", "cherrypicker", "copilot-review"]
    by_name = {p.name: p for p in config.external_plugins_for("acme", "widgets")}
    assert by_name["needs-rebase"].endpoint == "http://needs-rebase"
    assert by_name["cherrypicker"].endpoint == "http://cherrypicker.svc:8080"
    # No events listed means every event.
    assert [p.name for p in config.external_plugins_for("acme", "widgets", "push")] == ["cherrypicker"]
    assert [p.name for p in config.external_plugins_for("acme", "widgets", "issue_comment")] == [
        "needs-rebase", "cherrypicker", "copilot-review"]
    assert [p.name for p in config.external_plugins_for("acme", "other", "pull_request")] == ["needs-rebase"]
    assert config.external_plugins_for("other", "repo") == []


def test_external_plugin_at_org_and_repo_is_an_error():
    _, diags = parse("""
        plugins: {acme: [lgtm]}
        external_plugins:
          acme:
          - name: needs-rebase
          acme/widgets:
          - name: needs-rebase
            events: [pull_request]
    """)
    assert messages(diags) == [
        "plugins.yaml:7: external plugin needs-rebase for acme/widgets is already configured for its org "
        "acme (line 5); configure it at one level"]


def test_repos_keyed_sections_resolve_repo_then_org_then_defaults():
    config, diags = parse("""
        plugins: {acme: [approve]}
        approve:
        - repos: [acme]
          require_self_approval: true
        - repos: [acme/widgets, other]
          lgtm_acts_as_approve: true
    """)
    assert diags.errors == []
    assert config.repo_entry("approve", "acme", "widgets")["lgtm_acts_as_approve"] is True
    assert config.repo_entry("approve", "acme", "gadgets")["require_self_approval"] is True
    assert config.repo_entry("approve", "other", "x")["lgtm_acts_as_approve"] is True
    assert config.repo_entry("approve", "nobody", "x") is None
    assert config.repo_entry("lgtm", "acme", "widgets") is None
    assert config.section("approve").line == 4


def test_org_listed_twice_in_approve_is_an_error():
    _, diags = parse("""
        plugins: {acme: [approve]}
        approve:
        - repos: [acme]
        - repos:
          - acme/widgets
          - acme
    """)
    assert messages(diags) == [
        "plugins.yaml:7: org acme is listed twice in `approve` (first at line 4); only the first entry would apply"]


def test_wrong_types_are_errors_with_lines():
    _, diags = parse("""
        plugins:
          acme:
            plugins: lgtm
          acme/widgets:
            plugins: [trigger, 3]
        external_plugins:
          acme:
          - endpoint: http://x
    """)
    assert messages(diags) == [
        "plugins.yaml:4: plugins for acme must be a list of names, not str 'lgtm'",
        "plugins.yaml:6: plugins for acme/widgets: 3 is not a name",
        "plugins.yaml:9: external plugin of acme has no name",
    ]


def test_plugins_needing_outside_services_are_notices_not_errors():
    config, diags = parse("""
        plugins:
          acme: [lgtm, slackevents]
          acme/infra: [cat, dog, pony, yuks]
          acme/other: [cat]
    """)
    assert diags.errors == []
    notices = messages(diags, "notice")
    assert any(m.startswith("plugins.yaml:3: plugin slackevents (enabled for acme) will not run") for m in notices)
    assert any(m.startswith("plugins.yaml:4: plugin cat (enabled for acme/infra, acme/other) will not run in "
                            "this app: it replies with pictures from thecatapi.com") for m in notices)
    for name in ("dog", "pony", "yuks"):
        assert any(m.startswith(f"plugins.yaml:4: plugin {name} (enabled for acme/infra) will not run")
                   for m in notices)
    # Still enabled as configured: hook-side code decides what to do with it.
    assert config.plugins_for("acme", "infra") == ["lgtm", "slackevents", "cat", "dog", "pony", "yuks"]


def test_enabled_for_reports_orgs_with_exceptions_and_repos():
    config, _ = parse("""
        plugins:
          acme: {plugins: [lgtm], excluded_repos: [a, b]}
          acme/b: {plugins: [lgtm]}
          other/x: {plugins: [lgtm]}
    """)
    assert config.enabled_for("lgtm") == ({"acme": {"acme/a"}}, ["acme/b", "other/x"])


@pytest.mark.parametrize("corpus", ["metal3", "kubernetes"])
def test_real_plugin_configs_load_without_errors(corpus):
    path = PROW_CONFIGS / corpus / "plugins.yaml"
    doc, _ = load_yaml(path.read_bytes(), str(path))
    diags = Diagnostics()
    config = parse_plugin_config(doc, str(path), diags)
    assert diags.errors == []
    if corpus == "metal3":
        assert config.plugins_for("metal3-io", "project-infra")[-1] == "config-updater"
        assert "milestoneapplier" in config.plugins_for("metal3-io", "baremetal-operator")
        assert "milestoneapplier" not in config.plugins_for("Nordix", "metal3-dev-tools")
        assert [p.name for p in config.external_plugins_for("metal3-io", "ironic-image", "issue_comment")] == [
            "needs-rebase", "cherrypicker", "copilot-review"]
        assert [p.name for p in config.external_plugins_for("metal3-io", "ironic-image", "pull_request")] == [
            "needs-rebase", "cherrypicker"]
        assert config.repo_entry("approve", "Nordix", "metal3-dev-tools")["require_self_approval"] is True
        assert config.repo_entry("approve", "Nordix", "other") is None
