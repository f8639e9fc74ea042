"""require-matching-label: `missing_label` on issues and/or PRs that have no label matching `regexp`,
removed (and the `missing_comment` pruned) once one matches (Prow's
pkg/plugins/require-matching-label/require-matching-label.go, spec §12b). Config
`require_matching_label: [{org, repo?, branch?, prs, issues, regexp, missing_label, missing_comment?,
grace_period}]` (grace_period defaults to 5s).

Runs on issue and PR opened, reopened, labeled and unlabeled, and on `/check-required-labels` in new text
on open items. For a label event only the configurations whose regexp matches that label apply.
Opened and reopened events wait the longest grace period of the applicable configurations (as Prow
does, in the handler) so that other automation can label first, then read the labels.

Fewer requests than Prow: label events use the labels in the payload, for PRs too (Prow reads them).
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass

from shared.config.durations import parse_duration
from shared.events import CREATED, GenericCommentEvent, IssueEvent, PullRequestEvent
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, comment_body, register
from shared.plugins.respond import format_simple_response

ACTIONS = frozenset({"opened", "reopened", "labeled", "unlabeled"})
CHECK_RE = re.compile(r"(?mi)^/check-required-labels\s*$", re.ASCII)
DEFAULT_GRACE_PERIOD = "5s"


@dataclass(frozen=True)
class Requirement:
    org: str
    repo: str
    branch: str
    prs: bool
    issues: bool
    regexp: re.Pattern
    pattern: str
    missing_label: str
    missing_comment: str
    grace_seconds: float

    def describe(self) -> str:
        """Prow's RequireMatchingLabel.Describe."""
        text = f"Applies the '{self.missing_label}' label " + ("to " if not self.missing_comment else "and comments on ")
        if self.issues:
            text += "Issues " + ("and " if self.prs else "")
        if self.prs:
            text += (f"'{self.branch}' branch " if self.branch else "") + "PRs "
        text += f"in the '{self.org}' GitHub org " if not self.repo else f"in the '{self.org}/{self.repo}' GitHub repo "
        return text + f"that have no labels matching the regular expression '{self.pattern}'."

    def applies(self, org: str, repo: str, branch: str, label: str) -> bool:
        """Prow's matchingConfigs: `branch` is empty for issues; `label` is empty unless a label event."""
        if (not branch and not self.issues) or (branch and not self.prs):
            return False
        if org != self.org or (self.repo and self.repo != repo) or (self.branch and branch and self.branch != branch):
            return False
        return not label or bool(self.regexp.search(label))


def requirements(plugin_config) -> list[Requirement]:
    entries = plugin_config.section("require_matching_label") if plugin_config is not None else None
    found = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or not isinstance(entry.get("regexp"), str):
            continue
        text = lambda key: entry.get(key) if isinstance(entry.get(key), str) else ""  # noqa: E731
        try:
            grace = parse_duration(text("grace_period") or DEFAULT_GRACE_PERIOD).total_seconds()
            pattern = re.compile(entry["regexp"])
        except (ValueError, re.error):
            continue   # checkconfig reports it; Prow refuses the whole config
        found.append(Requirement(text("org"), text("repo"), text("branch"), entry.get("prs") is True,
                                 entry.get("issues") is True, pattern, entry["regexp"], text("missing_label"),
                                 text("missing_comment"), grace))
    return found


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    descriptions = [r.describe() for r in requirements(plugin_config)]
    return PluginHelp(
        description=("The require-matching-label plugin is a configurable plugin that applies a label to issues "
                     "and/or PRs that do not have any labels matching a regular expression. An example of this is "
                     "applying a 'needs-sig' label to all issues that do not have a 'sig/*' label. This plugin can "
                     "have multiple configurations to provide this kind of behavior for multiple different label "
                     "sets. The configuration allows issue type, PR branch, and an optional explanation comment to "
                     "be specified."),
        config={"": "The plugin has the following configurations:\n<ul><li>"
                    + "</li><li>".join(descriptions) + "</li></ul>"},
        commands=[Command("/check-required-labels", "Checks for required labels.", ["/check-required-labels"],
                          "Anyone", featured=True)])


PLUGIN = register(Plugin("require-matching-label", _help))


def _check(ctx: PluginContext, org: str, repo: str, number: int, branch: str, label: str,
           current: list[str] | None) -> None:
    applicable = [r for r in requirements(ctx.plugin_config) if r.applies(org, repo, branch, label)]
    if not applicable:
        return
    gh = ctx.github
    if not label:
        time.sleep(max(r.grace_seconds for r in applicable))
        current = None
    if current is None:
        current = [x["name"] for x in gh.get_issue_labels(org, repo, number)]
    for r in applicable:
        has_missing = r.missing_label in current
        has_match = any(r.regexp.search(name) for name in current)
        if has_match and has_missing:
            ctx.best_effort(f"removing {r.missing_label}", lambda r=r: gh.remove_label(org, repo, number, r.missing_label))
            if r.missing_comment:
                ctx.prune_comments(org, repo, number, lambda c, r=r: r.missing_comment in comment_body(c))
        elif not has_match and not has_missing:
            ctx.best_effort(f"adding {r.missing_label}", lambda r=r: gh.add_labels(org, repo, number, [r.missing_label]))
            if r.missing_comment:
                ctx.best_effort("commenting", lambda r=r: ctx.create_comment_once(
                    org, repo, number, format_simple_response(r.missing_comment), step=f"comment:{r.missing_label}"))


@PLUGIN.on(IssueEvent)
def handle_issue(ctx: PluginContext, event: IssueEvent) -> None:
    if event.action in ACTIONS:
        _check(ctx, event.repo.org, event.repo.name, event.issue.number, "", event.label.name,
               [x.name for x in event.issue.labels])


@PLUGIN.on(PullRequestEvent)
def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action in ACTIONS:
        pr = event.pull_request
        _check(ctx, event.repo.org, event.repo.name, pr.number, pr.base.ref, event.label.name,
               [x.name for x in pr.labels])


@PLUGIN.on(GenericCommentEvent)
def handle_comment(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.issue_state != "open" or event.action != CREATED or not CHECK_RE.search(event.body):
        return
    org, repo = event.repo.org, event.repo.name
    branch = ctx.github.get_pull(org, repo, event.number)["base"]["ref"] if event.is_pr else ""
    _check(ctx, org, repo, event.number, branch, "", None)
