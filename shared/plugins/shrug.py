"""shrug: `/shrug` adds the ¯\\_(ツ)_/¯ label, `/unshrug` removes it with a shrug in reply
(Prow's pkg/plugins/shrug/shrug.go, spec §6.9). Issues and PRs, any state, anyone."""
from __future__ import annotations

import re

from shared import labels
from shared.events import CREATED, GenericCommentEvent
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, register
from shared.plugins.respond import format_response_raw

SHRUG_RE = re.compile(r"(?mi)^/shrug\s*$", re.ASCII)
UNSHRUG_RE = re.compile(r"(?mi)^/unshrug\s*$", re.ASCII)
# The reply escapes the shrug for Markdown, as Prow's does.
UNSHRUG_REPLY = "¯\\\\\\_(ツ)\\_/¯"


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(description=labels.SHRUG, commands=[Command(
        usage="/[un]shrug", description=labels.SHRUG, examples=["/shrug", "/unshrug"],
        who_can_use="Anyone, " + labels.SHRUG)])


PLUGIN = register(Plugin("shrug", _help))


@PLUGIN.on(GenericCommentEvent)
def handle(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.action != CREATED:
        return
    if SHRUG_RE.search(event.body):
        want_shrug = True
    elif UNSHRUG_RE.search(event.body):
        want_shrug = False
    else:
        return
    org, repo, number = event.repo.org, event.repo.name, event.number
    gh = ctx.github
    # An exact comparison, as Prow's shrug makes (not the usual case-insensitive one).
    has_shrug = any(label["name"] == labels.SHRUG for label in gh.get_issue_labels(org, repo, number))
    if has_shrug and not want_shrug:
        reply = format_response_raw(event.body, event.html_url, event.user.login, UNSHRUG_REPLY)
        ctx.create_comment_once(org, repo, number, reply)
        gh.remove_label(org, repo, number, labels.SHRUG)
    elif want_shrug and not has_shrug:
        gh.add_labels(org, repo, number, [labels.SHRUG])
