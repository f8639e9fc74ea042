"""assign: `/assign`, `/unassign` (issues and PRs) and `/cc`, `/uncc` (review requests, PRs only) with
Prow's patterns (pkg/plugins/assign/assign.go, spec §6.3). New text only; anyone.

Without logins a command targets the commenter; `@` is optional; a login given on several lines takes
the last command; removals go before additions. `/cc org/team` requests a team of the repository's
org. When GitHub does not assign someone (not an org member or collaborator, not a commenter, or ten
assignees already) or refuses a review request, the reply lists them with Prow's text.

`@me` is the login "me", as in Prow (which gives it no meaning). Fewer requests than Prow: assignees
the payload shows already assigned are not assigned again, and ones it shows unassigned are not
unassigned. Not implemented: the newer `assign.restrict` option.
"""
from __future__ import annotations

import re

from shared.events import CREATED, GenericCommentEvent, norm_login
from shared.github.errors import ValidationFailed
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, register
from shared.plugins.respond import format_response_raw

ASSIGN_RE = re.compile(r"(?mi)^/(un)?assign(( @?[-\w]+?)*)\s*$", re.ASCII)
CC_RE = re.compile(r"(?mi)^/(un)?cc(( +@?[-/\w]+?)*)\s*$", re.ASCII)


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(
        description=("The assign plugin assigns or requests reviews from users/teams. Specific users can be assigned "
                     "with the command '/assign @user1' or have reviews requested of them with the command "
                     "'/cc @user1'. If no users are specified, the commands default to targeting the user who created "
                     "the command. Assignments and requested reviews can be removed in the same way that they are "
                     "added by prefixing the commands with 'un'."),
        commands=[
            Command("/[un]assign [[@]<username>...|[@]<orgname/teamname>...]", "Assigns assignee(s) or team(s) to the PR",
                    ["/assign", "/unassign", "/assign @spongebob", "/assign spongebob patrick",
                     "/assign @kubernetes/sig-foo-bar"],
                    "Anyone can use the command, but the target user(s) must be an org member, a repo collaborator, "
                    "or should have previously commented on the issue or PR.", featured=True),
            Command("/[un]cc [[@]<username>...|[@]<orgname/teamname>...]", "Requests a review from the user(s) or team(s).",
                    ["/cc", "/uncc", "/cc @spongebob", "/cc spongebob patrick", "/cc @kubernetes/sig-foo-bar"],
                    "Anyone can use the command, but the target user(s) must be a member of the org that owns the "
                    "repository.", featured=True)])


PLUGIN = register(Plugin("assign", _help))


def parse_commands(pattern: re.Pattern, body: str, commenter: str) -> tuple[list[str], list[str]]:
    """(logins to add, logins to remove): the last command naming a login wins."""
    wanted: dict[str, bool] = {}
    for m in pattern.finditer(body):
        add = m.group(1) != "un"   # compared exactly, as Prow does: `/UNassign` assigns
        logins = [p.strip("@ ") for p in m.group(2).split(" ")] if m.group(2) else [commenter]
        for login in filter(None, logins):
            wanted.pop(login, None)
            wanted[login] = add
    return [u for u, add in wanted.items() if add], [u for u, add in wanted.items() if not add]


def _assign_refusal(org: str, users: list[str]) -> str:
    return (f"GitHub didn't allow me to assign the following users: {', '.join(users)}.\n\nNote that only "
            f"[{org} members](https://github.com/orgs/{org}/people) with read permissions, repo collaborators and "
            "people who have commented on this issue/PR can be assigned. Additionally, issues/PRs can only have 10 "
            "assignees at the same time.\nFor more information please see [the contributor guide]"
            "(https://git.k8s.io/community/contributors/guide/first-contribution.md#issue-assignment-in-github)")


def _review_refusal(org: str, users: list[str]) -> str:
    return (f"GitHub didn't allow me to request PR reviews from the following users: {', '.join(users)}.\n\nNote "
            f"that only [{org} members](https://github.com/orgs/{org}/people) and repo collaborators can review this "
            "PR, and authors cannot review their own PRs.")


@PLUGIN.on(GenericCommentEvent)
def handle(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.action != CREATED:
        return
    _assign(ctx, event)
    if event.is_pr:
        _review(ctx, event)


def _reply(ctx: PluginContext, event: GenericCommentEvent, text: str, step: str) -> None:
    ctx.create_comment_once(event.repo.org, event.repo.name, event.number,
                            format_response_raw(event.body, event.html_url, event.user.login, text), step=step)


def _assign(ctx: PluginContext, event: GenericCommentEvent) -> None:
    to_add, to_remove = parse_commands(ASSIGN_RE, event.body, event.user.login)
    if not (to_add or to_remove):
        return
    org, repo, number = event.repo.org, event.repo.name, event.number
    assigned = {norm_login(a.login) for a in event.assignees}
    to_remove = [u for u in to_remove if norm_login(u) in assigned]
    to_add = [u for u in to_add if norm_login(u) not in assigned]
    if to_remove:
        ctx.github.remove_assignees(org, repo, number, to_remove)
    if to_add:
        issue = ctx.github.add_assignees(org, repo, number, to_add)
        now = {norm_login(a.get("login", "")) for a in (issue or {}).get("assignees") or []}
        missing = [u for u in to_add if norm_login(u) not in now]
        if missing:
            _reply(ctx, event, _assign_refusal(org, missing), "assign")


def _split_teams(org: str, logins: list[str]) -> tuple[list[str], list[str], list[str]]:
    """(users, team slugs of the repository's org, `org/team` names of another org)."""
    users, teams, foreign = [], [], []
    for login in logins:
        if "/" in login:
            team_org, _, slug = login.partition("/")
            (teams if team_org.lower() == org.lower() else foreign).append(slug if team_org.lower() == org.lower()
                                                                          else login)
        else:
            users.append(login)
    return users, teams, foreign


def _review(ctx: PluginContext, event: GenericCommentEvent) -> None:
    to_add, to_remove = parse_commands(CC_RE, event.body, event.user.login)
    if not (to_add or to_remove):
        return
    org, repo, number = event.repo.org, event.repo.name, event.number
    gh = ctx.github
    if to_remove:
        users, teams, _ = _split_teams(org, to_remove)
        if users or teams:
            ctx.once("uncc", lambda: gh.unrequest_reviewers(org, repo, number, users, teams))
    if not to_add:
        return

    def request(logins: list[str]) -> bool:
        users, teams, foreign = _split_teams(org, logins)
        if foreign:
            return False
        try:
            gh.request_reviewers(org, repo, number, users, teams)
        except ValidationFailed:
            return False
        return True

    def request_all() -> list[str]:
        if request(to_add):
            return []
        return [login for login in to_add if not request([login])]   # Prow tries each one then

    missing = ctx.once("cc", request_all)
    if missing:
        _reply(ctx, event, _review_refusal(org, missing), "cc-reply")
