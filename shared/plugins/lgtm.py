"""lgtm: the `lgtm` label from `/lgtm`, `/lgtm cancel` (`/remove-lgtm`) and, where configured, GitHub
reviews; removed again when new commits are pushed (Prow's pkg/plugins/lgtm/lgtm.go, spec §4).

Who may change it: the PR's author may only remove it ("you cannot LGTM your own PR."). Anyone else must
be a collaborator of the repository and is assigned to the PR, unless `owners.skip_collaborators` lists
the org or repo: then they must be an approver or reviewer in the OWNERS files (base branch) of a changed
file. With `store_tree_hash`, adding the label records the head commit's git tree in a bot comment, and a
push whose new head has the same tree (a squash, or a rebase that changes nothing) keeps the label.
`trusted_team_for_sticky_lgtm` names a team (by name, as Prow looks it up) whose PRs keep the label on push.

Fewer requests than Prow, same outcome:
- the collaborator check is made only when its answer matters (not for the author, not when OWNERS decide);
- the issue that the assignment returns, or the PR read for its base branch, tells the labels;
- OWNERS are read by shared/owners (one tree request, then every OWNERS file on the changed paths in one
  GraphQL request, content-addressed so never again), and only when `skip_collaborators` applies;
- a push reads nothing when the event's PR has no `lgtm` label (Prow reads the labels on every push).
Re-requesting reviews after removal (store_tree_hash) leaves out the PR's author, whom GitHub refuses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from shared import labels
from shared.events import CREATED, GenericCommentEvent, PullRequestEvent, ReviewEvent, norm_login
from shared.owners import OwnersSettings, load_repo_owners
from shared.plugins.registry import (Command, Plugin, PluginContext, PluginHelp, comment_author, comment_body,
                                     register)
from shared.plugins.respond import format_response_raw

LGTM_RE = re.compile(r"(?mi)^/lgtm(?: no-issue)?\s*$", re.ASCII)
LGTM_CANCEL_RE = re.compile(r"(?mi)^/(remove-lgtm|lgtm cancel)\s*$", re.ASCII)

TREE_HASH_NOTICE = "LGTM label has been added.  <details>Git tree hash: {}</details>"
TREE_HASH_NOTICE_RE = re.compile(r"LGTM label has been added.  <details>Git tree hash: (.*)</details>")
REMOVED_NOTICE = "New changes are detected. LGTM label has been removed."
OWN_PR_REPLY = "you cannot LGTM your own PR."
COLLABORATORS_ONLY_REPLY = "changing LGTM is restricted to collaborators"
OWNERS_ONLY_REPLY = "adding LGTM is restricted to approvers and reviewers in OWNERS files."

# Journal steps: a retried delivery finishes what an attempt that changed the label started.
_ADDED, _REMOVED = "lgtm added", "lgtm removed"


@dataclass(frozen=True)
class LgtmOptions:
    """One entry of plugins.yaml `lgtm:` (Prow's plugins.Lgtm); all off by default."""

    review_acts_as_lgtm: bool = False
    store_tree_hash: bool = False
    sticky_lgtm_team: str = ""


def options_for(plugin_config: Any, org: str, repo: str) -> LgtmOptions:
    """Prow's LgtmFor: the first entry listing org/repo, else the first listing org, else the defaults."""
    entry = plugin_config.repo_entry("lgtm", org, repo) if plugin_config is not None else None
    if entry is None:
        return LgtmOptions()
    team = entry.get("trusted_team_for_sticky_lgtm")
    return LgtmOptions(review_acts_as_lgtm=entry.get("review_acts_as_lgtm") is True,
                       store_tree_hash=entry.get("store_tree_hash") is True,
                       sticky_lgtm_team=team if isinstance(team, str) else "")


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    config: dict[str, str] = {}
    for full_name in enabled_repos:
        org, _, repo = full_name.partition("/")
        opts = options_for(plugin_config, org, repo)
        items = []
        if opts.review_acts_as_lgtm:
            items.append('Reviews of "approve" or "request changes" act as adding or removing LGTM.')
        if opts.store_tree_hash:
            items.append("Squashing commits does not remove LGTM.")
        if opts.sticky_lgtm_team:
            items.append(f'Commits from "{opts.sticky_lgtm_team}" do not remove LGTM.')
        if items:
            config[full_name] = "\n".join(["The plugin has the following configuration:<ul>",
                                           *(f"<li>{item}</li>" for item in items), "</ul>"])
    return PluginHelp(
        description="The lgtm plugin manages the application and removal of the 'lgtm' (Looks Good To Me) label "
                    "which is typically used to gate merging.",
        config=config,
        commands=[Command(
            usage="/[remove-]lgtm [cancel] or GitHub Review action",
            description="Adds or removes the 'lgtm' label which is typically used to gate merging.",
            examples=["/lgtm", "/lgtm cancel", "/remove-lgtm",
                      "<a href=\"https://help.github.com/articles/about-pull-request-reviews/\">'Approve' or "
                      "'Request Changes'</a>"],
            who_can_use="Collaborators on the repository. '/lgtm cancel' can be used additionally by the PR author.",
            featured=True)])


PLUGIN = register(Plugin("lgtm", _help))


@dataclass(frozen=True)
class _Change:
    """Who wants the label added or removed on which PR, and the text that asked (a comment or a review)."""

    org: str
    repo: str
    number: int
    actor: str
    pr_author: str
    assignees: tuple[str, ...]
    body: str
    html_url: str
    base_ref: str = ""     # known when the event carries the PR (reviews); read from GitHub otherwise
    head_sha: str = ""


@PLUGIN.on(GenericCommentEvent)
def handle_comment(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if not event.is_pr or event.issue_state != "open" or event.action != CREATED:
        return
    if LGTM_RE.search(event.body):
        want_lgtm = True
    elif LGTM_CANCEL_RE.search(event.body):
        want_lgtm = False
    else:
        return
    change = _Change(event.repo.org, event.repo.name, event.number, event.user.login, event.issue_author.login,
                     tuple(a.login for a in event.assignees), event.body, event.html_url)
    _handle(ctx, change, want_lgtm)


@PLUGIN.on(ReviewEvent)
def handle_review(ctx: PluginContext, event: ReviewEvent) -> None:
    if event.action != "submitted" or not options_for(ctx.plugin_config, event.repo.org,
                                                      event.repo.name).review_acts_as_lgtm:
        return
    review, pr = event.review, event.pull_request
    state = review.state.upper()
    if state not in ("APPROVED", "CHANGES_REQUESTED"):
        return
    # A command in the review's body is handled as a comment.
    if LGTM_RE.search(review.body) or LGTM_CANCEL_RE.search(review.body):
        return
    # Reviews by the bot or by GitHub Apps never count (they cannot be collaborators).
    if review.user.type == "Bot" or ctx.is_bot(review.user.login):
        return
    change = _Change(event.repo.org, event.repo.name, pr.number, review.user.login, pr.user.login,
                     tuple(a.login for a in pr.assignees), review.body, review.html_url,
                     base_ref=pr.base.ref, head_sha=pr.head.sha)
    _handle(ctx, change, state == "APPROVED")


def _handle(ctx: PluginContext, change: _Change, want_lgtm: bool) -> None:
    gh = ctx.github
    org, repo, number = change.org, change.repo, change.number
    is_author = change.actor == change.pr_author   # exact, as Prow compares

    def reply(message: str) -> None:
        ctx.create_comment_once(org, repo, number,
                                format_response_raw(change.body, change.html_url, change.actor, message))

    if is_author and want_lgtm:
        reply(OWN_PR_REPLY)
        return

    labels_now: list[str] | None = None
    if not is_author:
        if OwnersSettings.for_repo(org, repo, plugins=ctx.plugin_config).skip_collaborators:
            if not _in_owners(ctx, change):
                reply(OWNERS_ONLY_REPLY)
                return
            if not change.base_ref:   # the PR was read for its base branch: it tells the labels too
                labels_now = [label.get("name", "") for label in _pull(ctx, change).get("labels") or []]
        else:
            if not gh.is_collaborator(org, repo, change.actor):
                reply(COLLABORATORS_ONLY_REPLY)
                return
            if change.actor not in change.assignees:
                issue = ctx.best_effort(f"assigning {change.actor}",
                                        lambda: gh.add_assignees(org, repo, number, [change.actor]))
                if isinstance(issue, dict) and isinstance(issue.get("labels"), list):
                    labels_now = [label.get("name", "") for label in issue["labels"]]

    opts = options_for(ctx.plugin_config, org, repo)
    if labels_now is None:
        labels_now = [label["name"] for label in gh.get_issue_labels(org, repo, number)]
    if want_lgtm:
        if not _has_lgtm(labels_now):
            gh.add_labels(org, repo, number, [labels.LGTM])
            ctx.journal.record(_ADDED)
        if ctx.journal.done(_ADDED) and not _sticky(ctx, opts, org, change.pr_author):
            if opts.store_tree_hash:
                tree = _tree_sha(ctx, org, repo, change.head_sha or _pull(ctx, change)["head"]["sha"])
                ctx.create_comment_once(org, repo, number, TREE_HASH_NOTICE.format(tree), step="tree hash")
            ctx.prune_comments(org, repo, number, lambda c: REMOVED_NOTICE in comment_body(c))
        return

    if _has_lgtm(labels_now) and gh.remove_label(org, repo, number, labels.LGTM):
        ctx.journal.record(_REMOVED)
    if ctx.journal.done(_REMOVED) and opts.store_tree_hash:
        _rerequest_reviews(ctx, org, repo, number, change.assignees, change.pr_author)
        ctx.prune_comments(org, repo, number, lambda c: bool(TREE_HASH_NOTICE_RE.search(comment_body(c))))


@PLUGIN.on(PullRequestEvent)
def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    """A push (synchronize) removes lgtm, unless the tree is unchanged (store_tree_hash) or the author is
    in the sticky team."""
    pr = event.pull_request
    if pr.merged or event.action != "synchronize" or not pr.has_label(labels.LGTM):
        return
    org, repo = event.plugin_scope
    number = pr.number
    opts = options_for(ctx.plugin_config, org, repo)
    if _sticky(ctx, opts, org, pr.user.login):
        return
    if opts.store_tree_hash and not ctx.journal.done(_REMOVED):
        recorded = _recorded_tree_sha(ctx, org, repo, number)
        if recorded and _tree_sha(ctx, org, repo, pr.head.sha) == recorded:
            ctx.log.info("keeping lgtm: the tree %s is unchanged", recorded)
            return
    gh = ctx.github
    if gh.remove_label(org, repo, number, labels.LGTM):
        ctx.journal.record(_REMOVED)
    if not ctx.journal.done(_REMOVED):
        return
    if opts.store_tree_hash:
        _rerequest_reviews(ctx, org, repo, number, tuple(a.login for a in pr.assignees), pr.user.login)
    ctx.create_comment_once(org, repo, number, REMOVED_NOTICE, step="removed notice")


# -- helpers -----------------------------------------------------------------------------------------------

def _has_lgtm(names: Iterable[str]) -> bool:
    return any(name.lower() == labels.LGTM for name in names)


def _pull(ctx: PluginContext, change: _Change) -> dict:
    return ctx.github.get_pull(change.org, change.repo, change.number)


def _tree_sha(ctx: PluginContext, org: str, repo: str, commit_sha: str) -> str:
    """The git tree of a commit (Prow reads it from the commit; the tree itself names it as well)."""
    return ctx.github.get_tree(org, repo, commit_sha)["sha"]


def _recorded_tree_sha(ctx: PluginContext, org: str, repo: str, number: int) -> str:
    """The tree in the newest of the bot's tree-hash notices that was never edited, or ""."""
    for comment in reversed(ctx.github.list_issue_comments(org, repo, number)):
        match = TREE_HASH_NOTICE_RE.search(comment_body(comment))
        if (match and ctx.is_bot(comment_author(comment))
                and comment.get("updated_at") == comment.get("created_at")):
            return match.group(1)
    return ""


def _sticky(ctx: PluginContext, opts: LgtmOptions, org: str, pr_author: str) -> bool:
    """Whether the PR's author is in the team named `trusted_team_for_sticky_lgtm` (looked up by name)."""
    if not opts.sticky_lgtm_team:
        return False
    gh = ctx.github
    teams = ctx.best_effort(f"listing the teams of {org}", lambda: gh.list_teams(org)) or []
    team = next((t for t in teams if t.get("name") == opts.sticky_lgtm_team), None)
    if team is None:
        ctx.log.error("trusted_team_for_sticky_lgtm %r was not found in the org %s", opts.sticky_lgtm_team, org)
        return False
    return bool(ctx.best_effort(f"checking {pr_author} in team {team['slug']}",
                                lambda: gh.team_has_member(org, team["slug"], pr_author)))


def _rerequest_reviews(ctx: PluginContext, org: str, repo: str, number: int, assignees: tuple[str, ...],
                       pr_author: str) -> None:
    logins = [login for login in assignees if norm_login(login) != norm_login(pr_author)]
    if logins:
        ctx.best_effort("re-requesting reviews",
                        lambda: ctx.github.request_reviewers(org, repo, number, logins))


def _in_owners(ctx: PluginContext, change: _Change) -> bool:
    """Whether the actor is an approver or reviewer, in the base branch's OWNERS, of any changed file."""
    gh = ctx.github
    base_ref = change.base_ref or _pull(ctx, change)["base"]["ref"]
    owners = load_repo_owners(gh, change.org, change.repo, base_ref, plugins=ctx.plugin_config,
                              prow=getattr(ctx.config, "prow", None))
    actor = norm_login(change.actor)
    paths = [f["filename"] for f in gh.list_pull_files(change.org, change.repo, change.number)]
    owners.prefetch(paths)  # every OWNERS file on those paths in one request, rather than one each
    return any(actor in owners.approvers_for(path) or actor in owners.reviewers_for(path) for path in paths)
