"""hold: `/hold` adds `do-not-merge/hold` to a pull request, `/hold cancel`, `/unhold` and `/remove-hold`
take it off (Prow's pkg/plugins/hold/hold.go, spec §6.1). PRs only, new text only, anyone, any PR state.

A cancel line wins over a hold line in the same text. Prow's cancel pattern ends at the command, so
`/hold cancel because ...` is a `/hold` (it matches the hold pattern only), as in Prow.

The labels are read fresh (an ETag revalidation when nothing changed since the last read), because the
payload's labels may predate a command handled a moment earlier; the label is written only when it
has to change.
"""
from __future__ import annotations

import re

from shared import labels
from shared.events import CREATED, GenericCommentEvent
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, register

HOLD_RE = re.compile(r"(?mi)^/hold(\s.*)?$", re.ASCII)
CANCEL_RE = re.compile(r"(?mi)^/(remove-hold|hold\s+cancel|unhold)\s*$", re.ASCII)


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(
        description=(f"The hold plugin allows anyone to add or remove the '{labels.HOLD}' Label from a pull "
                     "request in order to temporarily prevent the PR from merging without withholding approval."),
        commands=[Command(
            usage="/[remove-][un]hold [cancel]",
            description=(f"Adds or removes the `{labels.HOLD}` Label which is used to indicate that the PR "
                         "should not be automatically merged."),
            examples=["/hold", "/hold cancel", "/unhold", "/remove-hold"],
            who_can_use=f"Anyone can use the /hold command to add or remove the '{labels.HOLD}' Label.")])


PLUGIN = register(Plugin("hold", _help))


@PLUGIN.on(GenericCommentEvent)
def handle(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if not event.is_pr or event.action != CREATED:
        return
    if CANCEL_RE.search(event.body):
        want_hold = False
    elif HOLD_RE.search(event.body):
        want_hold = True
    else:
        return
    org, repo, number = event.repo.org, event.repo.name, event.number
    gh = ctx.github
    held = labels.has_label(gh.get_issue_labels(org, repo, number), labels.HOLD)
    if held and not want_hold:
        gh.remove_label(org, repo, number, labels.HOLD)
    elif want_hold and not held:
        gh.add_labels(org, repo, number, [labels.HOLD])
