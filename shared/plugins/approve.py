"""approve: the `approved` label and the approval notification, from `/approve`, `/approve no-issue`,
`/approve cancel`, `/remove-approve`, GitHub reviews and (where configured) `/lgtm`
(Prow's pkg/plugins/approve/approve.go, spec §5).

A PR is approved when every OWNERS unit its files need has one of its approvers among the PR's
approvers (shared/owners/approvers.py), plus an associated issue where `issue_required`, or when a
human added the `approved` label. Each evaluation renders Prow's notification; when its text is not
already in the latest notification, all earlier ones are deleted and the new one posted, and nothing
is written when it is. Commands and reviews by the bot itself are ignored, as in Prow.

Requests compared with Prow: the PR is read once for its base branch, labels, body and assignees (Prow
reads the labels separately); OWNERS come from one tree request and content-addressed blobs instead
of a clone (the OWNERS files on the changed paths in one GraphQL request, once per version of them); the
issue events (who added `approved`) are read only when the label is on a PR whose
files are not approved, as Prow's lazy check does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from shared import labels
from shared.config.regex import RE2Error, compile_re2
from shared.events import CREATED, GenericCommentEvent, PullRequestEvent, ReviewEvent
from shared.owners import load_repo_owners
from shared.owners.approvers import (DEFAULT_COMMAND_HELP_LINK, DEFAULT_LINK_URL, DEFAULT_PR_PROCESS_LINK,
                                     Approvals, ChangeOwners, notification)
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, comment_author, register

COMMAND_RE = re.compile(r"(?m)^/([^\t\n\f\r ]+)[\t ]*([^\n\r]*)")
NOTIFICATION_RE = re.compile(r"(?is)^\[ApprovalNotifier\] *?([^\n]*)(?:\n\n(.*))?")
APPROVE, REMOVE_APPROVE, LGTM = "APPROVE", "REMOVE-APPROVE", "LGTM"
CANCEL, NO_ISSUE = "cancel", "no-issue"
APPROVAL_STATES = ("APPROVED", "CHANGES_REQUESTED", "DISMISSED")
_EPOCH = datetime.min.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class ApproveOptions:
    """One entry of plugins.yaml `approve:` (Prow's plugins.Approve), defaults applied."""

    issue_required: bool = False
    self_approval: bool = True            # not require_self_approval: the author approves implicitly
    lgtm_acts_as_approve: bool = False
    review_state_counts: bool = True      # not ignore_review_state
    command_help_link: str = DEFAULT_COMMAND_HELP_LINK
    pr_process_link: str = DEFAULT_PR_PROCESS_LINK


def options_for(plugin_config: Any, org: str, repo: str) -> ApproveOptions:
    """Prow's ApproveFor: the first entry listing org/repo, else the first listing org, else defaults."""
    entry = plugin_config.repo_entry("approve", org, repo) if plugin_config is not None else None
    if entry is None:
        return ApproveOptions()

    def flag(name: str) -> bool | None:
        value = entry.get(name)
        return value if isinstance(value, bool) else None

    def text(name: str, default: str) -> str:
        value = entry.get(name)
        return value if isinstance(value, str) and value else default

    implicit, require = flag("implicit_self_approve"), flag("require_self_approval")
    review, ignore = flag("review_acts_as_approve"), flag("ignore_review_state")
    return ApproveOptions(
        issue_required=bool(flag("issue_required")),
        self_approval=implicit if implicit is not None else (not require if require is not None else True),
        lgtm_acts_as_approve=bool(flag("lgtm_acts_as_approve")),
        review_state_counts=review if review is not None else (not ignore if ignore is not None else True),
        command_help_link=text("commandHelpLink", DEFAULT_COMMAND_HELP_LINK),
        pr_process_link=text("pr_process_link", DEFAULT_PR_PROCESS_LINK))


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    def do_not(b: bool) -> str:
        return "" if b else "do not "

    def will_not(b: bool) -> str:
        return "will " if b else "will not "
    config = {}
    for full in enabled_repos:
        org, _, repo = full.partition("/")
        o = options_for(plugin_config, org, repo)
        config[full] = (f"Pull requests {do_not(o.issue_required)}require an associated issue.<br>Pull request "
                        f"authors {do_not(o.self_approval)}implicitly approve their own PRs.<br>The /lgtm [cancel] "
                        f"command(s) {will_not(o.lgtm_acts_as_approve)}act as approval.<br>A GitHub approved or "
                        f"changes requested review {will_not(o.review_state_counts)}act as approval or cancel "
                        "respectively.")
    return PluginHelp(
        description=(
            f"The approve plugin implements a pull request approval process that manages the '{labels.APPROVED}' "
            "label and an approval notification comment. Approval is achieved when the set of users that have "
            "approved the PR is capable of approving every file changed by the PR. A user is able to approve a "
            "file if their username or an alias they belong to is listed in the 'approvers' section of an OWNERS "
            "file in the directory of the file or higher in the directory tree.\n<br>\n<br>Per-repo configuration "
            "may be used to require that PRs link to an associated issue before approval is granted. It may also "
            "be used to specify that the PR authors implicitly approve their own PRs.\n<br>For more information see "
            "<a href=\"https://docs.prow.k8s.io/docs/components/plugins/approve/approvers/\">here</a>."),
        config=config,
        commands=[Command("/[remove-]approve [no-issue|cancel]", "Approves a pull request",
                          ["/approve", "/approve no-issue", "/remove-approve"],
                          "Users listed as 'approvers' in appropriate OWNERS files.", featured=True)])


PLUGIN = register(Plugin("approve", _help))


# -- recognising approvals ----------------------------------------------------------------------------

def is_approval_command(ctx: PluginContext, author: str, body: str, lgtm_acts_as_approve: bool) -> bool:
    """An approval command by someone other than the bot (the text is looked at first: no request)."""
    for match in COMMAND_RE.finditer(body or ""):
        command = match.group(1).upper()
        if command in (APPROVE, REMOVE_APPROVE) or (command == LGTM and lgtm_acts_as_approve):
            return not ctx.is_bot(author)
    return False


def is_approval_state(ctx: PluginContext, author: str, state: str, review_state_counts: bool) -> bool:
    return not ctx.is_bot(author) and review_state_counts and (state or "").upper() in APPROVAL_STATES


@dataclass
class _Comment:
    author: str
    body: str
    created_at: datetime
    html_url: str
    id: int = 0
    review_state: str = ""


def _time(value: Any) -> datetime:
    if not isinstance(value, str) or not value:
        return _EPOCH
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _comment(raw: dict, *, review: bool = False) -> _Comment:
    return _Comment(comment_author(raw), raw.get("body") or "",
                    _time(raw.get("submitted_at") if review else raw.get("created_at")), raw.get("html_url") or "",
                    raw.get("id") or 0, (raw.get("state") or "") if review else "")


def associated_issue(body: str, org: str) -> int:
    """Prow's findAssociatedIssue: `<org>/<repo>/issues/N` or `#N` in the PR body, else 0."""
    try:
        pattern = compile_re2(rf"(?:{org}/[^/]+/issues/|#)(\d+)")
    except RE2Error:
        return 0
    match = pattern.search(body or "")
    if not match:
        return 0
    number = int(match.group(1))
    return number if number < 1 << 63 else 0


def _add_approvers(approvals: Approvals, comments: list[_Comment], author: str, review_state_counts: bool) -> None:
    for c in comments:
        if not c.author:
            continue
        if c.review_state == "APPROVED" and review_state_counts:
            approvals.add_approver(c.author, c.html_url, False)
        if c.review_state == "CHANGES_REQUESTED" and review_state_counts:
            approvals.remove_approver(c.author)
        for match in COMMAND_RE.finditer(c.body):
            name = match.group(1).upper()
            if name == REMOVE_APPROVE:
                approvals.remove_approver(c.author)
                continue
            if name not in (APPROVE, LGTM):
                continue
            args = match.group(2).strip().lower()
            if CANCEL in args:
                approvals.remove_approver(c.author)
                continue
            no_issue = args == NO_ISSUE
            if c.author == author:
                approvals.add_author_self_approver(c.author, c.html_url, no_issue)
            if name == APPROVE:
                approvals.add_approver(c.author, c.html_url, no_issue)
            else:
                approvals.add_lgtmer(c.author, c.html_url, no_issue)


# -- handlers -----------------------------------------------------------------------------------------

@PLUGIN.on(GenericCommentEvent)
def handle_comment(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.action != CREATED or not event.is_pr or event.issue_state == "closed":
        return
    org, repo = event.repo.org, event.repo.name
    opts = options_for(ctx.plugin_config, org, repo)
    if not is_approval_command(ctx, event.user.login, event.body, opts.lgtm_acts_as_approve):
        return
    handle(ctx, org, repo, event.number, opts)


@PLUGIN.on(ReviewEvent)
def handle_review(ctx: PluginContext, event: ReviewEvent) -> None:
    if event.action not in ("submitted", "dismissed"):
        return
    org, repo = event.repo.org, event.repo.name
    opts = options_for(ctx.plugin_config, org, repo)
    reviewer = event.review.user.login
    if is_approval_command(ctx, reviewer, event.review.body, opts.lgtm_acts_as_approve):
        return  # the review's text comes as a comment too: handled there
    if not is_approval_state(ctx, reviewer, event.review.state, opts.review_state_counts):
        return
    handle(ctx, org, repo, event.pull_request.number, opts)


@PLUGIN.on(PullRequestEvent)
def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action not in ("opened", "reopened", "synchronize", "labeled"):
        return
    if event.action == "labeled" and (event.label.name != labels.APPROVED or ctx.is_bot(event.sender.login)
                                      or event.pull_request.state == "closed"):
        return
    org, repo = event.repo.org, event.repo.name
    handle(ctx, org, repo, event.number or event.pull_request.number, options_for(ctx.plugin_config, org, repo))


def _label_added_by_human(ctx: PluginContext, org: str, repo: str, number: int) -> bool:
    """Prow's WasLabelAddedByHuman: the latest `labeled approved` event was not the bot's."""
    last = ""
    for e in ctx.github.list_issue_events(org, repo, number):
        if e.get("event") == "labeled" and (e.get("label") or {}).get("name") == labels.APPROVED:
            last = (e.get("actor") or {}).get("login") or ""
    return bool(last) and not ctx.is_bot(last)


def _prow_setting(ctx: PluginContext, section: str, key: str, default: str) -> str:
    prow = getattr(ctx.config, "prow", None)
    raw = getattr(prow, "raw", None) or {}
    value = (raw.get(section) or {}).get(key) if isinstance(raw.get(section), dict) else None
    return value if isinstance(value, str) and value else default


def handle(ctx: PluginContext, org: str, repo: str, number: int, opts: ApproveOptions) -> None:
    """Recompute approval of org/repo#number; update the notification and the label."""
    gh = ctx.github
    pr = gh.get_pull(org, repo, number)
    branch = pr["base"]["ref"]
    author = (pr.get("user") or {}).get("login") or ""
    has_label = any(label.get("name") == labels.APPROVED for label in pr.get("labels") or ())
    filenames = [f["filename"] for f in gh.list_pull_files(org, repo, number)]
    issue_comments = gh.list_issue_comments(org, repo, number)
    review_comments = gh.list_review_comments(org, repo, number)
    reviews = gh.list_reviews(org, repo, number)

    owners = load_repo_owners(gh, org, repo, branch, plugins=ctx.plugin_config, prow=getattr(ctx.config, "prow", None))
    owners.prefetch(filenames)
    approvals = Approvals(ChangeOwners(owners, filenames, number),
                          associated_issue=associated_issue(pr.get("body") or "", org),
                          require_issue=opts.issue_required,
                          manually_approved=lambda: has_label and _label_added_by_human(ctx, org, repo, number))
    if opts.self_approval:
        approvals.add_author_self_approver(author, (pr.get("html_url") or "") + "#", False)
    else:
        approvals.add_assignees(author)

    from_issue = [_comment(c) for c in issue_comments]
    comments = [_comment(c) for c in review_comments] + from_issue + [_comment(r, review=True) for r in reviews]
    comments.sort(key=lambda c: c.created_at)
    counted = [c for c in comments
               if is_approval_command(ctx, c.author, c.body, opts.lgtm_acts_as_approve)
               or is_approval_state(ctx, c.author, c.review_state, opts.review_state_counts)]
    _add_approvers(approvals, counted, author, opts.review_state_counts)
    approvals.add_assignees(*[(a.get("login") or "") for a in pr.get("assignees") or ()])

    notices = [c for c in from_issue if ctx.is_bot(c.author) and NOTIFICATION_RE.search(c.body)]
    message = notification(approvals, org=org, repo=repo, branch=branch,
                           link_url=_prow_setting(ctx, "github", "link_url", DEFAULT_LINK_URL),
                           command_help_link=opts.command_help_link, pr_process_link=opts.pr_process_link)
    if not notices or message not in notices[-1].body:
        for notice in notices:
            ctx.best_effort(f"deleting notification {notice.id}", lambda: gh.delete_comment(org, repo, notice.id))
        ctx.best_effort("posting the approval notification",
                        lambda: ctx.create_comment_once(org, repo, number, message, step="notification"))

    if not approvals.is_approved():
        if has_label:
            ctx.best_effort(f"removing {labels.APPROVED}", lambda: gh.remove_label(org, repo, number, labels.APPROVED))
    elif not has_label:
        ctx.best_effort(f"adding {labels.APPROVED}", lambda: gh.add_labels(org, repo, number, [labels.APPROVED]))
