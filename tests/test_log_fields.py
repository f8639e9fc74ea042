"""Log lines say what they are about, and never what the secrets are.

A whole story (signed deliveries through `hook`, `dispatch` with GitHub calls, a rejected signature, a
redelivery; a job through `launch`) runs with every logger at DEBUG; the test then reads every record.
"""
from __future__ import annotations

import logging
import re

import pytest

from shared.logcontext import current_fields, log_fields
from tests import payloads
from tests.appenv import SECRET, prow  # noqa: F401
from tests.test_launch import launch_env  # noqa: F401

REPO = "org/repo"


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def text(self, record) -> str:
        """Everything a log exporter could send: the message, the exception, every attribute."""
        parts = [record.getMessage(), logging.Formatter().formatException(record.exc_info) if record.exc_info else ""]
        parts += [repr(v) for k, v in vars(record).items() if k not in ("msg", "args", "exc_info")]
        return "\n".join(parts)


@pytest.fixture
def records():
    handler = Records()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _ours(handler: Records, prefix: str) -> list[logging.LogRecord]:
    return [r for r in handler.records if r.name.startswith(prefix)]


def test_every_delivery_line_names_its_delivery_event_repo_and_pr_and_no_secret_is_logged(prow, records):
    prow.gh.add_repo(REPO)
    issue = prow.gh.add_issue(REPO, title="Flaky", author="alice")
    pull = prow.gh.add_pull(REPO, author="alice")
    help_ = prow.post("issue_comment", payloads.issue_comment(REPO, issue, "/help", commenter="bob"))
    shrug = prow.post("issue_comment", payloads.issue_comment(REPO, pull, "/shrug", commenter="bob", on_pull=True))
    prow.post("issue_comment", payloads.issue_comment(REPO, pull, "/shrug", commenter="bob", on_pull=True),
              delivery=shrug["X-GitHub-Delivery"])                                   # a redelivery
    prow.post("issue_comment", payloads.issue_comment(REPO, issue, "/help", commenter="eve"),
              secret="wrong-secret", expect=403)                                     # a forged one
    prow.settle()
    assert prow.gh.comments(REPO, issue), "the story must have made GitHub calls"

    expected_pr = {help_["X-GitHub-Delivery"]: str(issue), shrug["X-GitHub-Delivery"]: str(pull)}
    lines = [r for r in _ours(records, "prow.") if r.name in ("prow.hook", "prow.dispatch", "prow.github")
             and "rejected delivery" not in r.getMessage()]
    assert len(lines) >= 6
    for r in lines:
        message = r.getMessage()
        assert getattr(r, "prow_delivery", None) in expected_pr, message
        assert (r.prow_event, r.prow_repo, r.prow_pr) == ("issue_comment", REPO, expected_pr[r.prow_delivery]), message
        assert f"[delivery={r.prow_delivery} event=issue_comment repo={REPO} pr={r.prow_pr}" in message
    assert {r.prow_delivery for r in lines} == set(expected_pr)

    secrets = [SECRET, prow.gh.token, "wrong-secret"]
    for r in records.records:
        text = records.text(r)
        for secret in secrets:
            assert secret not in text, f"{r.name}: {r.getMessage()[:200]}"


def test_every_job_line_names_the_job_and_outside_work_carries_nothing(launch_env, records):  # noqa: F811
    job_id = launch_env.job("unit-logs", pull=7)
    launch_env.settle()

    lines = _ours(records, "prow.launch")
    assert lines, "launch logged nothing"
    for r in lines:
        assert (r.prow_job, r.prow_job_name, r.prow_repo, r.prow_pr) == (job_id, "unit-logs", REPO, "7")
        assert re.search(rf"\[job={job_id} job_name=unit-logs repo={REPO} pr=7\]$", r.getMessage())
    assert current_fields() == {}


def test_fields_nest_drop_empty_values_and_keep_percent_signs(records):
    log = logging.getLogger("prow.test")
    with log_fields(delivery="d-1", pr=None, repo=""):
        with log_fields(job="j-1"):
            log.info("100%% of %s", "it")
        log.info("50% literal")
    log.info("outside")
    inner, outer, outside = _ours(records, "prow.test")
    assert inner.getMessage() == "100% of it [delivery=d-1 job=j-1]"
    assert outer.getMessage() == "50% literal [delivery=d-1]"
    assert outside.getMessage() == "outside" and not hasattr(outside, "prow_delivery")
