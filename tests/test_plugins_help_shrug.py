"""The help and shrug plugins against the fake GitHub through the real client: Prow's labels, texts and
conditions, and no request that changes nothing."""
import logging
from types import SimpleNamespace

import pytest

from shared import labels
from shared.config.errors import Diagnostics
from shared.config.plugins import parse_plugin_config
from shared.config.yamlnodes import load_yaml
from shared.events import parse_delivery
from shared.github import GitHubClient, MemoryETagCache
from shared.plugins import help as help_plugin
from shared.plugins import load_plugins, shrug
from shared.plugins.registry import MemoryJournal, PluginContext
from shared.plugins.respond import format_response_raw
from tests import payloads
from tests.fakes.github import fake_github  # noqa: F401

REPO = "org/repo"
HELP_TEXT = """
\tThis request has been marked as needing help from a contributor.

Please ensure the request meets the requirements listed [here](https://git.k8s.io/community/contributors/guide/help-wanted.md).

If this request no longer meets these requirements, the label can be removed
by commenting with the `/remove-help` command.
"""
GOOD_FIRST_ISSUE_TEXT = """
\tThis request has been marked as suitable for new contributors.

Please ensure the request meets the requirements listed [here](https://git.k8s.io/community/contributors/guide/help-wanted.md#good-first-issue).

If this request no longer meets these requirements, the label can be removed
by commenting with the `/remove-good-first-issue` command.
"""


def plugin_config(text: str = "plugins: {}\n"):
    doc, _ = load_yaml(text, "plugins.yaml")
    return parse_plugin_config(doc, "plugins.yaml", Diagnostics())


@pytest.fixture
def gh(fake_github):
    fake_github.add_repo(REPO)
    return fake_github


@pytest.fixture
def run(gh):
    """Run one plugin's handler for one payload, as dispatch would; returns the journal."""
    client = GitHubClient(base_url=gh.url, token=gh.token, cache=MemoryETagCache(), backoff=(0.01,), timeout=2.0)

    def run_plugin(plugin, event_name, payload, *, config_text="plugins: {}\n", journal=None):
        journal = journal or MemoryJournal()
        event = parse_delivery(event_name, "delivery-1", payload).generic_comment
        with client.for_event("delivery-1") as session:
            ctx = PluginContext(plugin=plugin.name, delivery_id="delivery-1", github=session,
                                config=SimpleNamespace(plugins=plugin_config(config_text)),
                                log=logging.LoggerAdapter(logging.getLogger("test"), {}), journal=journal)
            plugin.handler_for(event)(ctx, event)
        return journal
    return run_plugin


def comment(number, body, **kw):
    return payloads.issue_comment(REPO, number, body, **kw)


def test_registry_has_both_plugins_with_prow_help():
    registry = load_plugins()
    assert {"help", "shrug"} <= set(registry.names())
    help_json = registry.get("help").help(plugin_config(), []).to_json()
    assert help_json == {
        "Description": "The help plugin provides commands that add or remove the 'help wanted' and the "
                       "'good first issue' labels from issues.",
        "Config": None, "Events": ["GenericCommentEvent (any event for user text)"],
        "Commands": [{"Usage": "/[remove-](help|good-first-issue)", "Featured": False,
                      "Description": "Applies or removes the 'help wanted' and 'good first issue' labels to an issue.",
                      "Examples": ["/help", "/remove-help", "/good-first-issue", "/remove-good-first-issue"],
                      "WhoCanUse": "Anyone can trigger this command on a PR."}]}
    shrug_json = registry.get("shrug").help(plugin_config(), []).to_json()
    assert shrug_json["Description"] == "¯\\_(ツ)_/¯"
    assert shrug_json["Commands"][0]["WhoCanUse"] == "Anyone, ¯\\_(ツ)_/¯"


# -- help -------------------------------------------------------------------------------------------------

def test_help_adds_the_label_and_replies_with_prow_text(gh, run):
    n = gh.add_issue(REPO, author="alice")
    payload = comment(n, "/help", commenter="bob")
    run(help_plugin.PLUGIN, "issue_comment", payload)
    assert gh.labels(REPO, n) == [labels.HELP]
    [reply] = gh.comments(REPO, n)
    assert reply.body == format_response_raw("/help", payload["issue"]["html_url"], "bob", HELP_TEXT)
    assert reply.body.startswith("@bob: \n\tThis request has been marked as needing help from a contributor.")


def test_help_when_the_label_is_there_changes_nothing(gh, run):
    n = gh.add_issue(REPO, author="alice", labels=["Help Wanted"])   # HasLabel is case-insensitive
    gh.clear_log()
    run(help_plugin.PLUGIN, "issue_comment", comment(n, "/help", commenter="bob"))
    assert [(r.method, r.path) for r in gh.log] == [("GET", f"/repos/{REPO}/issues/{n}/labels")]


def test_comments_without_a_command_make_no_request(gh, run):
    n = gh.add_issue(REPO, author="alice")
    gh.clear_log()
    run(help_plugin.PLUGIN, "issue_comment", comment(n, "I can help\n > /help\n`/help`"))
    run(shrug.PLUGIN, "issue_comment", comment(n, "  /shrug"))
    assert gh.log == []


@pytest.mark.parametrize("kwargs", [dict(on_pull=True), dict(state="closed"), dict(action="edited"),
                                    dict(action="deleted")])
def test_help_acts_on_new_comments_on_open_issues_only(gh, run, kwargs):
    n = gh.add_pull(REPO) if kwargs.get("on_pull") else gh.add_issue(REPO)
    gh.clear_log()
    run(help_plugin.PLUGIN, "issue_comment", comment(n, "/help", **kwargs))
    assert gh.log == []


def test_good_first_issue_adds_both_labels_in_one_request(gh, run):
    n = gh.add_issue(REPO)
    payload = comment(n, "/good-first-issue", commenter="bob")
    gh.clear_log()
    run(help_plugin.PLUGIN, "issue_comment", payload)
    assert sorted(gh.labels(REPO, n)) == [labels.GOOD_FIRST_ISSUE, labels.HELP]
    assert gh.count("POST", f"/repos/{REPO}/issues/{n}/labels") == 1
    [reply] = gh.comments(REPO, n)
    assert reply.body == format_response_raw("/good-first-issue", payload["issue"]["html_url"], "bob",
                                             GOOD_FIRST_ISSUE_TEXT)


def test_remove_help_removes_both_labels_and_prunes_only_the_bot_notices(gh, run):
    n = gh.add_issue(REPO, labels=[labels.HELP, labels.GOOD_FIRST_ISSUE])
    gh.add_comment(REPO, n, "@bob: " + HELP_TEXT, author="ci-bot")
    gh.add_comment(REPO, n, "@bob: " + GOOD_FIRST_ISSUE_TEXT, author="ci-bot")
    gh.add_comment(REPO, n, "quoting: " + HELP_TEXT, author="someone")
    gh.add_comment(REPO, n, "unrelated", author="ci-bot")
    run(help_plugin.PLUGIN, "issue_comment", comment(n, "/remove-help"))
    assert gh.labels(REPO, n) == []
    assert [(c.user, c.body) for c in gh.comments(REPO, n)] == [("someone", "quoting: " + HELP_TEXT),
                                                               ("ci-bot", "unrelated")]
    assert gh.count("GET", f"/repos/{REPO}/issues/{n}/comments") == 1   # listed once for both prunes


def test_remove_good_first_issue_keeps_help_wanted(gh, run):
    n = gh.add_issue(REPO, labels=[labels.HELP, labels.GOOD_FIRST_ISSUE])
    gh.add_comment(REPO, n, "@bob: " + GOOD_FIRST_ISSUE_TEXT, author="ci-bot")
    gh.add_comment(REPO, n, "@bob: " + HELP_TEXT, author="ci-bot")
    run(help_plugin.PLUGIN, "issue_comment", comment(n, "/remove-good-first-issue"))
    assert gh.labels(REPO, n) == [labels.HELP]
    assert [c.body for c in gh.comments(REPO, n)] == ["@bob: " + HELP_TEXT]


def test_only_the_first_applicable_command_acts(gh, run):
    n = gh.add_issue(REPO, labels=[labels.HELP])
    run(help_plugin.PLUGIN, "issue_comment", comment(n, "/good-first-issue\n/remove-help"))
    assert gh.labels(REPO, n) == []          # remove-help wins over good-first-issue
    assert gh.comments(REPO, n) == []


def test_guidelines_url_and_summary_come_from_plugins_yaml(gh, run):
    n = gh.add_issue(REPO)
    config = ("help:\n  help_guidelines_url: https://example.org/help.md\n"
              "  help_guidelines_summary: Be kind.\n")
    run(help_plugin.PLUGIN, "issue_comment", comment(n, "/good-first-issue", commenter="bob"), config_text=config)
    [reply] = gh.comments(REPO, n)
    assert ("\n\tThis request has been marked as suitable for new contributors.\n\n### Guidelines\nBe kind.\n\n"
            "For more details on the requirements of such an issue, please see "
            "[here](https://example.org/help.md#good-first-issue) and ensure that they are met.\n") in reply.body


def test_a_retried_delivery_does_not_reply_twice(gh, run):
    n = gh.add_issue(REPO)
    journal = run(help_plugin.PLUGIN, "issue_comment", comment(n, "/help"))
    gh.update_issue(REPO, n, labels=[])       # as if the label request had failed in that attempt
    run(help_plugin.PLUGIN, "issue_comment", comment(n, "/help"), journal=journal)
    assert gh.labels(REPO, n) == [labels.HELP]
    assert len(gh.comments(REPO, n)) == 1


def test_a_reply_whose_answer_was_lost_is_not_posted_again(gh, run):
    from shared.github import TransientError
    n = gh.add_issue(REPO)
    gh.fail("POST", f"/repos/{REPO}/issues/{n}/comments", status=502, applied=True)
    with pytest.raises(TransientError):
        journal = MemoryJournal()
        run(help_plugin.PLUGIN, "issue_comment", comment(n, "/help"), journal=journal)
    assert len(gh.comments(REPO, n)) == 1     # GitHub applied it; the answer was lost
    run(help_plugin.PLUGIN, "issue_comment", comment(n, "/help"), journal=journal)
    assert len(gh.comments(REPO, n)) == 1
    assert gh.labels(REPO, n) == [labels.HELP]


# -- shrug ------------------------------------------------------------------------------------------------

def test_shrug_adds_the_label(gh, run):
    n = gh.add_issue(REPO)
    run(shrug.PLUGIN, "issue_comment", comment(n, "/shrug"))
    assert gh.labels(REPO, n) == [labels.SHRUG]
    assert gh.comments(REPO, n) == []


def test_shrug_twice_makes_no_second_label_request(gh, run):
    n = gh.add_issue(REPO, labels=[labels.SHRUG])
    gh.clear_log()
    run(shrug.PLUGIN, "issue_comment", comment(n, "/SHRUG"))
    assert [r.method for r in gh.log] == ["GET"]


def test_unshrug_removes_the_label_and_shrugs_back(gh, run):
    n = gh.add_pull(REPO, labels=[labels.SHRUG])
    payload = comment(n, "/unshrug", commenter="bob", on_pull=True)
    run(shrug.PLUGIN, "issue_comment", payload)
    assert gh.labels(REPO, n) == []
    [reply] = gh.comments(REPO, n)
    assert reply.body == format_response_raw("/unshrug", payload["comment"]["html_url"], "bob", "¯\\\\\\_(ツ)\\_/¯")


def test_unshrug_without_the_label_does_nothing(gh, run):
    n = gh.add_issue(REPO)
    gh.clear_log()
    run(shrug.PLUGIN, "issue_comment", comment(n, "/unshrug"))
    assert [r.method for r in gh.log] == ["GET"]


def test_shrug_only_acts_on_new_text(gh, run):
    n = gh.add_issue(REPO)
    gh.clear_log()
    run(shrug.PLUGIN, "issue_comment", comment(n, "/shrug", action="edited"))
    assert gh.log == []
