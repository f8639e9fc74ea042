"""skip: `/skip` on an open PR marks the failed or pending statuses of optional presubmits as
`success` with the description `Skipped` (Prow's pkg/plugins/skip/skip.go, spec §8). Anyone; new
text only. Required contexts are never touched, nor jobs this same comment asks trigger to run.

The presubmits are the repository's from the job config (`ctx.config.jobs`); statuses are the head
commit's combined status (nothing to do when it is `success`).

Difference from Prow: "jobs this comment asks trigger to run" are the jobs whose trigger matches the
comment (`/test <name>`, ...) and, for `/retest`, every job with a failed status; Prow asks trigger's
full selection, which also honours `/ok-to-test` and `/test all` for changed-file filters. In-repo
(`.prow.yaml`) presubmits are not read.
"""
from __future__ import annotations

import re

from shared.events import CREATED, GenericCommentEvent
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, register

SKIP_RE = re.compile(r"(?mi)^/skip\s*$", re.ASCII)
RETEST_RE = re.compile(r"(?m)^/retest\s*$", re.ASCII)
FAILED = frozenset({"failure", "error"})


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(
        description="The skip plugin allows users to clean up GitHub stale commit statuses for non-blocking jobs on a PR.",
        commands=[Command("/skip", "Cleans up GitHub stale commit statuses for non-blocking jobs on a PR.", ["/skip"],
                          "Anyone can trigger this command on a PR.")])


PLUGIN = register(Plugin("skip", _help))


@PLUGIN.on(GenericCommentEvent)
def handle(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if not event.is_pr or event.issue_state != "open" or event.action != CREATED or not SKIP_RE.search(event.body):
        return
    org, repo = event.repo.org, event.repo.name
    jobs = ctx.config.jobs.presubmits_for(f"{org}/{repo}") if ctx.config.jobs is not None else []
    if not jobs:
        return
    gh = ctx.github
    head = gh.get_pull(org, repo, event.number)["head"]["sha"]
    combined = gh.get_combined_status(org, repo, head)
    if combined.get("state") == "success":
        return
    states = {s.get("context"): s.get("state") for s in combined.get("statuses") or []}
    retest = bool(RETEST_RE.search(event.body))
    for job in jobs:
        context = job.context or job.name
        state = states.get(context)
        if state is None or state == "success" or job.context_required():
            continue
        if job.trigger_matches(event.body) or (retest and state in FAILED):
            continue   # trigger runs it for this comment
        gh.create_status(org, repo, head, state="success", context=context, description="Skipped")
