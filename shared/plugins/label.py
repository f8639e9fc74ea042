"""label: `/kind`, `/area`, `/priority`, `/sig`, `/triage`, `/committee`, `/language`, `/wg` and their
`/remove-*` forms, plus `/label` and `/remove-label` for configured labels (Prow's
pkg/plugins/label/label.go, spec §6.2). Issues and PRs, new text only, anyone — except
`triage/accepted` (org members) and `label.restricted_labels` (allowed users and teams).

Commands are case-sensitive and read after HTML comments are removed; values are lower-cased. Adds come
before removals; at most one summary reply follows (labels not allowed by `/label`, labels the
repository lacks, labels not on the issue, triage/accepted refused), plus one reply per refused
restricted label, each with Prow's text. On a PR `labeled` event, the `allowed_users` of a restricted
label whose `assign_on` names the added label are assigned; on a push (`synchronize`), restricted
labels with `remove_on_new_commits` are removed.

Differences from Prow: labels are added in one request instead of one per label; `assign_on` assigns
only users not yet assigned, and `remove_on_new_commits` removes only labels the payload shows. Not
implemented: `allow_approvers_from_owners` (it needs the OWNERS approvers of every changed file).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from shared import labels
from shared.events import CREATED, GenericCommentEvent, PullRequestEvent, norm_login
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, register
from shared.plugins.respond import format_response_raw

DEFAULT_LABELS = ("kind", "priority", "area")
NEEDS_LABELS = ("kind", "priority", "sig", "triage")  # categories with a needs-<category> label
_CATEGORIES = "area|committee|kind|language|priority|sig|triage|wg"
HTML_COMMENT_RE = re.compile(r"(?s)<!--(.*?)-->")
LABEL_RE = re.compile(rf"(?m)^/({_CATEGORIES})\s*(.*?)\s*$", re.ASCII)
REMOVE_LABEL_RE = re.compile(rf"(?m)^/remove-({_CATEGORIES})\s*(.*?)\s*$", re.ASCII)
CUSTOM_LABEL_RE = re.compile(r"(?m)^/label\s*(.*?)\s*$", re.ASCII)
CUSTOM_REMOVE_LABEL_RE = re.compile(r"(?m)^/remove-label\s*(.*?)\s*$", re.ASCII)


# -- configuration ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RestrictedLabel:
    label: str
    allowed_teams: tuple[str, ...] = ()
    allowed_users: tuple[str, ...] = ()
    assign_on: tuple[str, ...] = ()
    remove_on_new_commits: bool = False


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _section(plugin_config) -> dict:
    section = plugin_config.section("label") if plugin_config is not None else None
    return section if isinstance(section, dict) else {}


def additional_labels(plugin_config) -> list[str]:
    return list(_strings(_section(plugin_config).get("additional_labels")))


def restricted_labels_for(plugin_config, org: str, repo: str) -> dict[str, RestrictedLabel]:
    """Prow's RestrictedLabelsFor: the entries of `*`, then the org, then org/repo, by lower-cased label
    (a later level replaces an earlier one)."""
    by_key = _section(plugin_config).get("restricted_labels")
    result: dict[str, RestrictedLabel] = {}
    if not isinstance(by_key, dict):
        return result
    for key in ("*", org, f"{org}/{repo}"):
        entries = by_key.get(key)
        for entry in entries if isinstance(entries, list) else ():
            if not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
                continue
            assign_on = entry.get("assign_on")
            result[entry["label"].lower()] = RestrictedLabel(
                label=entry["label"], allowed_teams=_strings(entry.get("allowed_teams")),
                allowed_users=_strings(entry.get("allowed_users")),
                assign_on=tuple(a["label"] for a in assign_on if isinstance(a, dict) and isinstance(a.get("label"), str))
                if isinstance(assign_on, list) else (),
                remove_on_new_commits=entry.get("remove_on_new_commits") is True)
    return result


def _config_string(names: list[str]) -> str:
    quoted = [f'"{name}/*"' for name in names]
    return f"The label plugin will work on {', '.join(quoted[:-1])} and {quoted[-1]} labels."


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(
        description=("The label plugin provides commands that add or remove certain types of labels. Labels of the "
                     "following types can be manipulated: 'area/*', 'committee/*', 'kind/*', 'language/*', "
                     "'priority/*', 'sig/*', 'triage/*', and 'wg/*'. More labels can be configured to be used via "
                     "the /label command. Restricted labels can only be applied by certain users or teams."),
        config={"": _config_string([*DEFAULT_LABELS, *additional_labels(plugin_config)])},
        commands=[Command(
            usage="/[remove-](area|committee|kind|language|priority|sig|triage|wg|label) <target>",
            description="Applies or removes a label from one of the recognized types of labels.",
            examples=["/kind bug", "/remove-area prow", "/sig testing", "/language zh", "/label foo-bar-baz"],
            who_can_use=("Anyone can trigger this command on issues and PRs. `triage/accepted` can only be added "
                         "by org members. Restricted labels are only allowed for users or teams."))])


PLUGIN = register(Plugin("label", _help))


# -- commands -----------------------------------------------------------------------------------------

def _prefixed_labels(matches: list[re.Match]) -> list[str]:
    """`/kind bug flake` -> kind/bug, kind/flake (split on single spaces, as Prow does)."""
    found = []
    for m in matches:
        for word in m.group(0).strip().split(" ")[1:]:
            found.append(f"{m.group(1)}/{word.strip()}".lower())
    return found


def _custom_labels(matches: list[re.Match], allowed, not_allowed: list[str]) -> list[str]:
    """`/label x`: exactly one word; a word that is neither additional nor restricted is collected."""
    found = []
    for m in matches:
        parts = m.group(0).strip().split(" ")
        if parts[0] not in ("/label", "/remove-label") or len(parts) != 2:
            continue
        if allowed(parts[1].lower()):
            found.append(parts[1].lower())
        else:
            not_allowed.append(m.group(0))
    return found


def _with_category(names, category: str) -> set[str]:
    return {name for name in names if name.startswith(category + "/")}


def _refusal(restricted: RestrictedLabel, name: str) -> str:
    msg = (f"The label(s) `{name}` cannot be applied or removed, because you are not in one of the allowed teams "
           "and are not an allowed user.")
    if restricted.allowed_teams:
        msg += f" Must be a member of one of these teams: {', '.join(restricted.allowed_teams)}"
    elif restricted.allowed_users:
        users = random.sample(list(restricted.allowed_users), min(len(restricted.allowed_users), 20))
        msg += f" Consider assigning one of the following members: {','.join(users)}"
    return msg


def _may_set(ctx: PluginContext, org: str, user: str, restricted: RestrictedLabel | None) -> bool:
    if restricted is None:
        return True
    if any(allowed.lower() == user.lower() for allowed in restricted.allowed_users):
        return True
    return any(ctx.github.team_has_member(org, team, user) for team in restricted.allowed_teams)


@PLUGIN.on(GenericCommentEvent)
def handle_comment(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.action != CREATED:
        return
    body = HTML_COMMENT_RE.sub("", event.body)
    adds, removes = list(LABEL_RE.finditer(body)), list(REMOVE_LABEL_RE.finditer(body))
    custom_adds, custom_removes = list(CUSTOM_LABEL_RE.finditer(body)), list(CUSTOM_REMOVE_LABEL_RE.finditer(body))
    if not (adds or removes or custom_adds or custom_removes):
        return
    org, repo, number, user = event.repo.org, event.repo.name, event.number, event.user.login
    gh = ctx.github
    in_repo = {label["name"].lower() for label in gh.get_repo_labels(org, repo)}
    current = gh.get_issue_labels(org, repo, number)
    current_names = [label["name"] for label in current]

    additional = additional_labels(ctx.plugin_config)
    additional_set = {name.lower() for name in additional}
    restricted = restricted_labels_for(ctx.plugin_config, org, repo)
    allowed = lambda name: name in restricted or name in additional_set  # noqa: E731
    not_allowed: list[str] = []
    to_add = _prefixed_labels(adds) + _custom_labels(custom_adds, allowed, not_allowed)
    to_remove = _prefixed_labels(removes) + _custom_labels(custom_removes, allowed, not_allowed)

    for category in NEEDS_LABELS:
        needs = f"needs-{category}"
        removed = _with_category(to_remove, category)
        if needs not in in_repo or not removed or _with_category(to_add, category):
            continue
        if removed >= _with_category(current_names, category):
            to_add.append(needs)

    reply = lambda step, text: ctx.create_comment_once(  # noqa: E731
        org, repo, number, format_response_raw(body, event.html_url, user, text), step=step)
    missing_in_repo: list[str] = []
    not_on_issue: list[str] = []
    triage_refused = False
    adding: list[str] = []
    for name in to_add:
        if labels.has_label(current, name) or name in adding:
            continue
        if name not in in_repo:
            missing_in_repo.append(name)
            continue
        if name == labels.TRIAGE_ACCEPTED and not gh.is_member(org, user):
            triage_refused = True
            continue
        if not _may_set(ctx, org, user, restricted.get(name)):
            reply(f"refused:{name}", _refusal(restricted[name], name))
            continue
        adding.append(name)
    if adding:
        gh.add_labels(org, repo, number, adding)

    for name in to_remove:
        if not labels.has_label(current, name):
            not_on_issue.append(name)
            continue
        if name not in in_repo:
            continue
        if not _may_set(ctx, org, user, restricted.get(name)):
            reply(f"refused:{name}", _refusal(restricted[name], name))
            continue
        gh.remove_label(org, repo, number, name)

    if not_allowed:
        supported = ", ".join([*additional, *sorted(restricted)])
        reply("comment", f"The label(s) `{', '.join(not_allowed)}` cannot be applied. These labels are supported: "
                         f"`{supported}`. Is this label configured under `labels -> additional_labels` or "
                         "`labels -> restricted_labels` in `plugin.yaml`?")
    elif missing_in_repo:
        reply("comment", f"The label(s) `{', '.join(missing_in_repo)}` cannot be applied, because the repository "
                         "doesn't have them.")
    elif not_on_issue:
        reply("comment", f"Those labels are not set on the issue: `{', '.join(not_on_issue)}`")
    elif triage_refused:
        reply("comment", f"The label `{labels.TRIAGE_ACCEPTED}` cannot be applied. Only GitHub organization "
                         "members can add the label.")


@PLUGIN.on(PullRequestEvent)
def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action == "synchronize":
        _remove_on_new_commits(ctx, event)
    elif event.action == "labeled":
        _assign_on_label(ctx, event)


def _assign_on_label(ctx: PluginContext, event: PullRequestEvent) -> None:
    org, repo = event.repo.org, event.repo.name
    pr = event.pull_request
    for restricted in restricted_labels_for(ctx.plugin_config, org, repo).values():
        if not any(on.lower() == event.label.name.lower() for on in restricted.assign_on):
            continue
        assigned = {norm_login(a.login) for a in pr.assignees}
        missing = [u for u in restricted.allowed_users if norm_login(u) not in assigned]
        if missing:
            ctx.best_effort(f"assigning {missing} for {restricted.label}",
                            lambda: ctx.github.add_assignees(org, repo, pr.number, missing))


def _remove_on_new_commits(ctx: PluginContext, event: PullRequestEvent) -> None:
    pr = event.pull_request
    if pr.merged:
        return
    org, repo = event.repo.org, event.repo.name
    removable = {name for name, r in restricted_labels_for(ctx.plugin_config, org, repo).items()
                 if r.remove_on_new_commits}
    for label in pr.labels:
        if label.name.lower() in removable:
            ctx.github.remove_label(org, repo, pr.number, label.name)
