"""retitle: `/retitle <title>` sets the title of an issue or PR for trusted users (Prow's
pkg/plugins/retitle/retitle.go, spec §6.8). New text only; open items unless
`retitle.allow_closed_issues`. Trust is Prow's TrustedUser (org member, collaborator, ... see
`trust`). Empty titles, titles with issue-closing keywords or @mentions are refused with Prow's replies.

Fewer requests than Prow, which reads the issue or PR before editing it: one PATCH of the title.
"""
from __future__ import annotations

import re

from shared.events import CREATED, GenericCommentEvent
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, register
from shared.plugins.respond import format_response_raw
from shared.plugins.trust import trusted_user

RETITLE_RE = re.compile(r"(?mi)^/retitle\s*(.*)$", re.ASCII)
# invalidcommitmsg's patterns, which Prow's retitle uses; Go's `((?i)a|b)` is Python's `((?i:a|b))`
CLOSE_ISSUE_RE = re.compile(r"((?i:(clos(?:e[sd]?))|(fix(?:(es|ed)?))|(resolv(?:e[sd]?))))[\s:]+(\w+/\w+)?#(\d+)",
                            re.ASCII)
AT_MENTION_RE = re.compile(r"\B([@][\w_-]+)", re.ASCII)
UNTRUSTED = "Re-titling can only be requested by trusted users, like repository collaborators."
EMPTY = "Titles may not be empty."
INVALID = ("Titles may not contain [keywords](https://help.github.com/articles/closing-issues-using-keywords) which "
           "can automatically close issues and at(@) mentions.")


def allow_closed(plugin_config) -> bool:
    section = plugin_config.section("retitle") if plugin_config is not None else None
    return isinstance(section, dict) and section.get("allow_closed_issues") is True


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(
        description=("The retitle plugin allows users to re-title pull requests and issues where GitHub permissions "
                     "don't allow them to."),
        config={"": "The retitle plugin also allows retitling closed/merged issues and PRs."
                if allow_closed(plugin_config) else
                "The retitle plugin does not allow retitling closed/merged issues and PRs."},
        commands=[Command("/retitle <title>", "Edits the pull request or issue title.", ["/retitle New Title"],
                          "Collaborators on the repository.", featured=True)])


PLUGIN = register(Plugin("retitle", _help))


@PLUGIN.on(GenericCommentEvent)
def handle(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if (not allow_closed(ctx.plugin_config) and event.issue_state != "open") or event.action != CREATED:
        return
    m = RETITLE_RE.search(event.body)
    if m is None:
        return
    org, repo, number, user = event.repo.org, event.repo.name, event.number, event.user.login

    def reply(text: str) -> None:
        ctx.create_comment_once(org, repo, number, format_response_raw(event.body, event.html_url, user, text))

    if not trusted_user(ctx, user, org, repo).trusted:
        return reply(UNTRUSTED)
    title = m.group(1).strip()
    if not title:
        return reply(EMPTY)
    if AT_MENTION_RE.search(title) or CLOSE_ISSUE_RE.search(title):
        return reply(INVALID)
    if title != event.issue_title:
        ctx.github.edit_issue(org, repo, number, title=title)
