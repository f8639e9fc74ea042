"""The event model: every example payload parses; generic comments are synthesised as Prow's hook does."""
import pytest

from shared.events import (CREATED, DELETED, EDITED, GenericCommentEvent, IssueCommentEvent, IssueEvent,
                           PullRequestEvent, PushEvent, ReviewCommentEvent, ReviewEvent, StatusEvent,
                           generic_comment_action, parse_delivery)
from tests import payloads, webhooks

TYPED = {"issues": IssueEvent, "issue_comment": IssueCommentEvent, "pull_request": PullRequestEvent,
         "pull_request_review": ReviewEvent, "pull_request_review_comment": ReviewCommentEvent,
         "push": PushEvent, "status": StatusEvent}


def test_every_example_payload_parses():
    seen = set()
    for name, _, payload in webhooks.examples():
        parsed = parse_delivery(name, "guid-1", payload)
        seen.add(name)
        if name in TYPED:
            assert isinstance(parsed.event, TYPED[name]), name
            assert parsed.event.guid == "guid-1" and parsed.event.name == name
        else:
            assert parsed.event is None and parsed.generic_comment is None, name
    assert set(TYPED) <= seen


@pytest.mark.parametrize("action,expected", [
    ("created", CREATED), ("opened", CREATED), ("submitted", CREATED), ("edited", EDITED),
    ("deleted", DELETED), ("dismissed", DELETED), ("closed", ""), ("labeled", ""), ("synchronize", ""),
    ("reopened", ""), ("", "")])
def test_generic_comment_actions_are_normalised_as_prow_does(action, expected):
    assert generic_comment_action(action) == expected


def test_issue_comment_on_a_pull_request():
    payload = payloads.issue_comment("org/repo", 7, "/shrug", commenter="bob", issue_author="alice", on_pull=True)
    parsed = parse_delivery("issue_comment", "g", payload)
    ce = parsed.generic_comment
    assert isinstance(ce, GenericCommentEvent)
    assert (ce.action, ce.body, ce.number, ce.is_pr, ce.issue_state) == (CREATED, "/shrug", 7, True, "open")
    assert ce.user.login == "bob" and ce.issue_author.login == "alice"
    assert ce.html_url == payload["comment"]["html_url"]
    assert ce.issue_html_url == payload["issue"]["html_url"]
    assert ce.comment_id == payload["comment"]["id"] and ce.id == payload["issue"]["id"]
    assert ce.plugin_scope == ("org", "repo") and ce.guid == "g" and ce.source == "issue_comment"
    assert parsed.events() == [parsed.event, ce]


def test_issue_body_is_a_comment_when_opened_or_edited_only():
    opened = parse_delivery("issues", "g", payloads.issues("org/repo", 3, action="opened", author="al", body="/help"))
    assert opened.generic_comment.action == CREATED and opened.generic_comment.body == "/help"
    assert opened.generic_comment.user.login == "al" and not opened.generic_comment.is_pr
    edited = parse_delivery("issues", "g", payloads.issues("org/repo", 3, action="edited"))
    assert edited.generic_comment.action == EDITED
    for action in ("closed", "labeled", "reopened", "assigned"):
        assert parse_delivery("issues", "g", payloads.issues("org/repo", 3, action=action)).generic_comment is None


def test_pull_request_body_and_lookup_by_base_repository():
    payload = payloads.pull_request_event("org/repo", 9, action="opened", author="al", body="/hold")
    payload["repository"] = payloads.repository("fork-owner/repo")  # the event repo differs from the base
    parsed = parse_delivery("pull_request", "g", payload)
    assert parsed.event.plugin_scope == ("org", "repo")          # typed handlers: the base repository
    assert parsed.generic_comment.plugin_scope == ("fork-owner", "repo")  # generic comment: the event's repo
    ce = parsed.generic_comment
    assert (ce.body, ce.is_pr, ce.number, ce.user.login, ce.issue_author.login) == ("/hold", True, 9, "al", "al")
    assert parse_delivery("pull_request", "g", payloads.pull_request_event("o/r", 1, action="synchronize")
                          ).generic_comment is None


def test_review_body_and_review_comment():
    review = parse_delivery("pull_request_review", "g", payloads.pull_request_review(
        "org/repo", 4, reviewer="carol", state="approved", body="LGTM\n/approve", pr_author="al"))
    assert isinstance(review.event, ReviewEvent) and review.event.review.state == "approved"
    ce = review.generic_comment
    assert (ce.action, ce.body, ce.user.login, ce.issue_author.login, ce.is_pr) == (
        CREATED, "LGTM\n/approve", "carol", "al", True)
    assert ce.html_url == review.event.review.html_url and ce.issue_html_url == review.event.pull_request.html_url
    empty = parse_delivery("pull_request_review", "g", payloads.pull_request_review("o/r", 4, body=None))
    assert empty.generic_comment.body == ""        # a null review body reads as ""
    dismissed = parse_delivery("pull_request_review", "g", payloads.pull_request_review("o/r", 4, action="dismissed"))
    assert dismissed.generic_comment.action == DELETED

    rc = parse_delivery("pull_request_review_comment", "g", payloads.pull_request_review_comment(
        "org/repo", 4, "/lgtm", commenter="dan"))
    assert rc.generic_comment.body == "/lgtm" and rc.generic_comment.comment_id == rc.event.comment.id
    assert rc.event.comment.path == "README.md"


def test_push_is_looked_up_by_owner_name():
    payload = webhooks.example("push")
    parsed = parse_delivery("push", "g", payload)
    assert parsed.event.plugin_scope == (payload["repository"]["owner"]["name"], payload["repository"]["name"])
    assert parsed.event.branch == payload["ref"].removeprefix("refs/heads/").removeprefix("refs/tags/")
    assert parsed.generic_comment is None


def test_missing_and_null_fields_read_as_zero_values():
    parsed = parse_delivery("issue_comment", "g", {"action": "created", "issue": None, "comment": {"body": None}})
    assert parsed.generic_comment.body == "" and parsed.generic_comment.number == 0
    assert parsed.event.repo.full_name == "" and parsed.source_repo == ""
