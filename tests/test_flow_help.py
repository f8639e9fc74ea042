"""End to end: signed deliveries into `hook`, `settle()` runs `dispatch`, the fake GitHub shows the result."""
from shared import labels
from shared.plugins.help import help_message
from shared.plugins.respond import format_response_raw
from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"


def test_help_on_an_issue_adds_the_label_and_answers(prow):
    prow.gh.add_repo(REPO)
    number = prow.gh.add_issue(REPO, title="Flaky test", author="alice")
    event = payloads.issue_comment(REPO, number, "Could someone take this?\r\n/help\r\n", commenter="bob",
                                   issue_author="alice")

    sent = prow.post("issue_comment", event)
    run = prow.settle()

    assert [i.outcome for i in run.calls("dispatch")] == ["ok"]
    assert prow.gh.labels(REPO, number) == [labels.HELP]
    [reply] = prow.gh.comments(REPO, number)
    assert reply.user == "ci-bot"
    assert reply.body == format_response_raw(event["comment"]["body"], event["issue"]["html_url"], "bob",
                                             help_message())
    record = prow.record(sent["X-GitHub-Delivery"])
    assert record.state == "done" and record.units == {"help:GenericCommentEvent", "shrug:GenericCommentEvent"}


def test_shrug_on_a_pull_request_comment_labels_the_pull_request(prow):
    prow.gh.add_repo(REPO)
    number = prow.gh.add_pull(REPO, author="alice")

    prow.post("issue_comment", payloads.issue_comment(REPO, number, "/shrug", commenter="bob", on_pull=True))
    prow.settle()

    assert prow.gh.labels(REPO, number) == [labels.SHRUG]
    assert prow.gh.comments(REPO, number) == []


def test_help_is_for_issues_only(prow):
    prow.gh.add_repo(REPO)
    number = prow.gh.add_pull(REPO, author="alice")

    prow.post("issue_comment", payloads.issue_comment(REPO, number, "/help", commenter="bob", on_pull=True))
    prow.settle()

    assert prow.gh.labels(REPO, number) == []
    assert prow.gh.count("*", "/repos/org/repo/issues/*/labels*") == 0


def test_an_approving_review_body_is_read_for_commands(prow):
    prow.gh.add_repo(REPO)
    number = prow.gh.add_pull(REPO, author="alice")

    prow.post("pull_request_review", payloads.pull_request_review(REPO, number, reviewer="carol", state="approved",
                                                                  body="Looks fine.\n/shrug"))
    prow.settle()

    assert prow.gh.labels(REPO, number) == [labels.SHRUG]


def test_unshrug_in_a_review_comment_removes_the_label_and_shrugs_back(prow):
    prow.gh.add_repo(REPO)
    number = prow.gh.add_pull(REPO, author="alice", labels=[labels.SHRUG])
    event = payloads.pull_request_review_comment(REPO, number, "/unshrug", commenter="carol")

    prow.post("pull_request_review_comment", event)
    prow.settle()

    assert prow.gh.labels(REPO, number) == []
    [reply] = prow.gh.comments(REPO, number)
    assert reply.body.startswith("@carol: ¯\\\\\\_(ツ)\\_/¯\n\n<details>\n\nIn response to [this]("
                                 + event["comment"]["html_url"] + "):\n\n>/unshrug\n")


def test_a_command_in_an_issue_body_counts_when_the_issue_is_opened(prow):
    prow.gh.add_repo(REPO)
    number = prow.gh.add_issue(REPO, author="alice", body="Broken.\n/help")

    prow.post("issues", payloads.issues(REPO, number, action="opened", author="alice", body="Broken.\n/help"))
    prow.settle()

    assert prow.gh.labels(REPO, number) == [labels.HELP]


def test_a_repository_excluded_from_its_org_runs_no_plugins(prow):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [help, shrug]\n    excluded_repos: [repo]\n")
    prow.gh.add_repo(REPO)
    number = prow.gh.add_issue(REPO, author="alice")

    prow.post("issue_comment", payloads.issue_comment(REPO, number, "/help\n/shrug", commenter="bob"))
    prow.settle()

    assert prow.gh.labels(REPO, number) == []
    assert prow.gh.log == []
