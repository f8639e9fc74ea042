"""lifecycle: `/lifecycle active|frozen|stale|rotten`, `/remove-lifecycle ...`, `/close`,
`/close not-planned` and `/reopen` on issues and PRs (Prow's pkg/plugins/lifecycle/, spec §6.6).
New text only; per event reopen, then close, then the lifecycle labels, as in Prow.

- `/reopen` (closed items): the author or a collaborator.
- `/close` (open items): the author or a collaborator, or anyone once the item is `lifecycle/stale` or
  `lifecycle/rotten`. `/close not-planned` closes issues with GitHub's "not planned" reason; PRs refuse.
- `/lifecycle X` replaces any other lifecycle label; `lifecycle/frozen` is refused on PRs; anyone.

Fewer requests than Prow: the author needs no collaborator check, an author or collaborator no label
read, and the labels are read once for the whole event (Prow reads them per command line).
"""
from __future__ import annotations

import re

from shared import labels
from shared.events import CREATED, GenericCommentEvent
from shared.github.errors import ValidationFailed
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, register
from shared.plugins.respond import format_response_raw

LIFECYCLE_LABELS = (labels.LIFECYCLE_ACTIVE, labels.LIFECYCLE_FROZEN, labels.LIFECYCLE_STALE, labels.LIFECYCLE_ROTTEN)
LIFECYCLE_RE = re.compile(r"(?mi)^/(remove-)?lifecycle (active|frozen|stale|rotten)\s*$", re.ASCII)
CLOSE_RE = re.compile(r"(?mi)^/close\s*$", re.ASCII)
CLOSE_NOT_PLANNED_RE = re.compile(r"(?mi)^/close not-planned\s*$", re.ASCII)
REOPEN_RE = re.compile(r"(?mi)^/reopen\s*$", re.ASCII)
AUTHORS_AND_COLLABORATORS = "Authors and collaborators on the repository can trigger this command."


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(
        description="Close, reopen, flag and/or unflag an issue or PR as frozen/stale/rotten",
        commands=[
            Command("/close [not-planned]", "Closes an issue or PR.", ["/close", "/close not-planned"],
                    AUTHORS_AND_COLLABORATORS),
            Command("/reopen", "Reopens an issue or PR", ["/reopen"], AUTHORS_AND_COLLABORATORS),
            Command("/[remove-]lifecycle <frozen|stale|rotten>", "Flags an issue or PR as frozen/stale/rotten",
                    ["/lifecycle frozen", "/remove-lifecycle stale"], "Anyone can trigger this command.")])


PLUGIN = register(Plugin("lifecycle", _help))


class _Item:
    """The issue or PR of the event: who may act on it, its labels read at most once."""

    def __init__(self, ctx: PluginContext, event: GenericCommentEvent):
        self.ctx, self.event = ctx, event
        self.org, self.repo, self.number = event.repo.org, event.repo.name, event.number
        self._labels: list[str] | None = None
        self._collaborator: bool | None = None

    def author_or_collaborator(self) -> bool:
        # Prow compares the author's login exactly.
        if self.event.issue_author.login == self.event.user.login:
            return True
        if self._collaborator is None:
            self._collaborator = bool(self.ctx.best_effort(
                "checking collaborator",
                lambda: self.ctx.github.is_collaborator(self.org, self.repo, self.event.user.login)))
        return self._collaborator

    @property
    def labels(self) -> list[str]:
        if self._labels is None:
            self._labels = [label["name"] for label in
                            self.ctx.github.get_issue_labels(self.org, self.repo, self.number)]
        return self._labels

    def has(self, name: str) -> bool:
        return any(label.lower() == name.lower() for label in self.labels)

    def reply(self, text: str, step: str) -> None:
        e = self.event
        self.ctx.create_comment_once(self.org, self.repo, self.number,
                                     format_response_raw(e.body, e.html_url, e.user.login, text), step=step)


@PLUGIN.on(GenericCommentEvent)
def handle(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.action != CREATED:
        return
    item = _Item(ctx, event)
    _reopen(item)
    _close(item)
    _lifecycle(item)


def _reopen(item: _Item) -> None:
    e = item.event
    if e.issue_state != "closed" or not REOPEN_RE.search(e.body):
        return
    if not item.author_or_collaborator():
        item.reply("You can't reopen an issue/PR unless you authored it or you are a collaborator.", "reopen")
        return
    kind = "PR" if e.is_pr else "Issue"
    try:
        item.ctx.github.reopen_issue(item.org, item.repo, item.number)
    except ValidationFailed as exc:
        refusal = next((err.get("message") for err in exc.errors if isinstance(err, dict)
                        and "state cannot be changed" in str(err.get("message", ""))), None)
        if refusal is None:
            raise
        item.reply(f"Failed to re-open {kind}: {refusal}", "reopen")
        return
    item.reply("Reopened this PR." if e.is_pr else "Reopened this issue.", "reopen")


def _close(item: _Item) -> None:
    e = item.event
    not_planned = bool(CLOSE_NOT_PLANNED_RE.search(e.body))
    if e.issue_state != "open" or not (not_planned or CLOSE_RE.search(e.body)):
        return
    inactive = lambda: item.has(labels.LIFECYCLE_STALE) or item.has(labels.LIFECYCLE_ROTTEN)  # noqa: E731
    if not item.author_or_collaborator() and not inactive():
        item.reply("You can't close an active issue/PR unless you authored it or you are a collaborator.", "close")
        return
    gh = item.ctx.github
    if e.is_pr:
        if not_planned:
            item.reply("PRs cannot be closed as Not Planned.", "close")
            return
        gh.close_issue(item.org, item.repo, item.number)
        item.reply("Closed this PR.", "close")
    elif not_planned:
        gh.edit_issue(item.org, item.repo, item.number, state="closed", state_reason="not_planned")
        item.reply('Closing this issue, marking it as "Not Planned".', "close")
    else:
        gh.close_issue(item.org, item.repo, item.number)
        item.reply("Closing this issue.", "close")


def _lifecycle(item: _Item) -> None:
    e = item.event
    gh = item.ctx.github
    for i, m in enumerate(LIFECYCLE_RE.finditer(e.body)):
        remove, label = bool(m.group(1)), "lifecycle/" + m.group(2)   # as typed, as Prow builds it
        if e.is_pr and label == labels.LIFECYCLE_FROZEN and not remove:
            item.reply(f"The `{labels.LIFECYCLE_FROZEN}` label cannot be applied to Pull Requests.", f"frozen:{i}")
            continue
        if remove and item.has(label):
            gh.remove_label(item.org, item.repo, item.number, label)
            item.labels[:] = [n for n in item.labels if n.lower() != label.lower()]
        elif not remove and not item.has(label):
            for other in LIFECYCLE_LABELS:
                if other != label and item.has(other):
                    item.ctx.best_effort(f"removing {other}",
                                         lambda other=other: gh.remove_label(item.org, item.repo, item.number, other))
                    item.labels[:] = [n for n in item.labels if n.lower() != other]
            item.ctx.best_effort(f"adding {label}", lambda: gh.add_labels(item.org, item.repo, item.number, [label]))
            item.labels.append(label)
