"""milestoneapplier: the milestone configured for a PR's base branch is set when the PR merges, and, for
a branch other than the default one, also when it is opened (Prow's
pkg/plugins/milestoneapplier/milestoneapplier.go, spec §12). Config
`milestone_applier: {"org/repo": {branch: "milestone title"}}`.

A PR that has the milestone already (per the payload) is left alone. A configured title that the
repository lacks is logged as an error; Prow returns an error (which only logs) too.
"""
from __future__ import annotations

from typing import Any

from shared.events import PullRequestEvent
from shared.plugins.milestone import milestone_numbers
from shared.plugins.registry import Plugin, PluginContext, PluginHelp, register


def branch_milestones(plugin_config, full_name: str) -> dict[str, str]:
    section = plugin_config.section("milestone_applier") if plugin_config is not None else None
    entry = section.get(full_name) if isinstance(section, dict) else None
    return {str(k): str(v) for k, v in entry.items()} if isinstance(entry, dict) else {}


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    config = {}
    for repo in enabled_repos:
        pairs = [f"- `{branch}`: `{title}`" for branch, title in branch_milestones(plugin_config, repo).items()]
        config[repo] = "The configured branches and milestones for this repo are:\n" + "\n".join(pairs)
    return PluginHelp(
        description=("The milestoneapplier plugin automatically applies the configured milestone for the base branch "
                     "after a PR is merged. If a PR targets a non-default branch, it also adds the milestone when the "
                     "PR is opened."),
        config=config)


PLUGIN = register(Plugin("milestoneapplier", _help))


def _current_title(payload: Any) -> str:
    pr = payload.get("pull_request") if isinstance(payload, dict) else None
    milestone = pr.get("milestone") if isinstance(pr, dict) else None
    return milestone.get("title") or "" if isinstance(milestone, dict) else ""


@PLUGIN.on(PullRequestEvent)
def handle(ctx: PluginContext, event: PullRequestEvent) -> None:
    pr = event.pull_request
    base = pr.base.repo
    title = branch_milestones(ctx.plugin_config, f"{base.org}/{base.name}").get(pr.base.ref)
    if title is None or _current_title(event.payload) == title:
        return
    merged = event.action == "closed" and pr.merged
    if base.default_branch != pr.base.ref:
        if not merged and event.action != "opened":
            return
    elif not merged:
        return
    numbers = milestone_numbers(ctx.github.list_milestones(base.org, base.name))
    if title not in numbers:
        ctx.log.error("The configured milestone %s for %s branch does not exist in the %s/%s repo", title,
                      pr.base.ref, base.org, base.name)
        return
    ctx.github.edit_issue(base.org, base.name, event.number, milestone=numbers[title])
