"""issue-management: `/transfer-issue <repo>` (also `/transfer <repo>`) moves an issue to another
repository of the same org, for org members (Prow's issue-management, which absorbed the
transfer-issue plugin, spec §12b). Issues only; new text only.

In Prow's order: one command line with one destination, else Prow's usage reply; the destination must
exist (else Prow's reply); the commenter must be an org member (else Prow's reply); then GitHub's
GraphQL `transferIssue` mutation with the issue's and the repository's node ids.

Not implemented: issue-management's other commands (`/link-issue`, `/unlink-issue`, `/pin-issue`,
`/unpin-issue`).
"""
from __future__ import annotations

import re

from shared.events import CREATED, GenericCommentEvent
from shared.github.errors import NotFound
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, register
from shared.plugins.respond import format_response_raw

TRANSFER_RE = re.compile(r"(?mi)^/transfer(?:-issue)?(?: +(.*))?$", re.ASCII)
USAGE = "/transfer-issue must only be used once and with a single destination repo."
NOT_A_MEMBER = "You must be an org member to transfer this issue."
TRANSFER_MUTATION = ("mutation($input: TransferIssueInput!) { transferIssue(input: $input) { issue { url } } }")


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(
        description="The issue-management plugin transfers issues between repositories of an org.",
        commands=[Command("/transfer[-issue] <destination repo in same org>",
                          "Transfers an issue to a different repo in the same org.",
                          ["/transfer-issue kubectl", "/transfer test-infra"], "Org members.", featured=True)])


PLUGIN = register(Plugin("issue-management", _help))


@PLUGIN.on(GenericCommentEvent)
def handle(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.is_pr or event.action != CREATED:
        return
    matches = list(TRANSFER_RE.finditer(event.body))
    if not matches:
        return
    org, repo, number, user = event.repo.org, event.repo.name, event.number, event.user.login
    gh = ctx.github

    def reply(text: str) -> None:
        ctx.create_comment_once(org, repo, number, format_response_raw(event.body, event.html_url, user, text))

    if len(matches) != 1 or not matches[0].group(1):
        return reply(USAGE)
    destination = matches[0].group(1).strip()
    try:
        target = gh.get_repo(org, destination)
    except NotFound:
        return reply(f"Something went wrong or the destination repo {org}/{destination} does not exist.")
    if not gh.is_member(org, user):
        return reply(NOT_A_MEMBER)
    result = ctx.once("transfer", lambda: gh.graphql(
        TRANSFER_MUTATION, {"input": {"issueId": event.node_id, "repositoryId": target["node_id"]}}, mutation=True))
    if result is not None:
        ctx.log.info("transferred %s/%s#%d to %s", org, repo, number,
                     ((result.get("transferIssue") or {}).get("issue") or {}).get("url"))
