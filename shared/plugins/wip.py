"""wip: `do-not-merge/work-in-progress` on pull requests that are drafts or whose title starts with WIP
(`WIP:`, `[WIP]`, `(wip)`, `WIP ...`), removed when neither holds (Prow's pkg/plugins/wip/wip-label.go,
spec §6.4). Runs on the PR actions that can change the title or the draft state.

The PR's labels come from the event's payload (GitHub sends them with every pull_request event), so the
plugin makes no read, only the write when the label has to change; Prow reads the labels first. The
name is compared exactly, as Prow does.
"""
from __future__ import annotations

import re

from shared import labels
from shared.events import PullRequestEvent
from shared.plugins.registry import Plugin, PluginContext, PluginHelp, register

TITLE_RE = re.compile(r"(?i)^\W?WIP\W", re.ASCII)
ACTIONS = frozenset({"opened", "reopened", "edited", "ready_for_review", "converted_to_draft"})


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(description=(
        f"The wip (Work In Progress) plugin applies the '{labels.WORK_IN_PROGRESS}' Label to pull requests whose "
        "title starts with 'WIP' or are in the 'draft' stage, and removes it from pull requests when they remove "
        f"the title prefix or become ready for review. The '{labels.WORK_IN_PROGRESS}' Label is typically used to "
        "block a pull request from merging while it is still in progress."))


PLUGIN = register(Plugin("wip", _help))


def needs_label(title: str, draft: bool) -> bool:
    return draft or bool(TITLE_RE.search(title))


@PLUGIN.on(PullRequestEvent)
def handle(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action not in ACTIONS:
        return
    pr = event.pull_request
    base = pr.base.repo
    has = any(label.name == labels.WORK_IN_PROGRESS for label in pr.labels)
    needs = needs_label(pr.title, pr.draft)
    if needs and not has:
        ctx.github.add_labels(base.org, base.name, pr.number, [labels.WORK_IN_PROGRESS])
    elif has and not needs:
        ctx.github.remove_label(base.org, base.name, pr.number, labels.WORK_IN_PROGRESS)
