"""heart: a random reaction (+1, heart or hooray) on a newly opened PR that adds lines to an OWNERS or
OWNERS_ALIASES file, and on new PR comments by `heart.adorees` matching `heart.commentregexp` (Prow's
pkg/plugins/heart/heart.go, spec §6.9). Without adorees or a regexp, comments get none.

OWNERS file names follow `owners.filenames` (by org/repo, then org), as in Prow. The reaction is
chosen at random, as Prow does, once per delivery (a retried delivery does not add a second one).
"""
from __future__ import annotations

import posixpath
import random
import re

from shared.events import CREATED, IssueCommentEvent, PullRequestEvent
from shared.plugins.registry import Plugin, PluginContext, PluginHelp, register

REACTIONS = ("+1", "heart", "hooray")
DEFAULT_OWNERS_FILES = ("OWNERS", "OWNERS_ALIASES")


def _section(plugin_config) -> dict:
    section = plugin_config.section("heart") if plugin_config is not None else None
    return section if isinstance(section, dict) else {}


def adorees(plugin_config) -> list[str]:
    value = _section(plugin_config).get("adorees")
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def comment_regexp(plugin_config) -> str:
    value = _section(plugin_config).get("commentregexp")
    return value if isinstance(value, str) else ""


def owners_filenames(plugin_config, org: str, repo: str) -> tuple[str, str]:
    """Prow's OwnersFilenames: `owners.filenames` for org/repo, else for the org, else the defaults."""
    owners = plugin_config.section("owners") if plugin_config is not None else None
    by_key = owners.get("filenames") if isinstance(owners, dict) else None
    for key in (f"{org}/{repo}", org):
        entry = by_key.get(key) if isinstance(by_key, dict) else None
        if isinstance(entry, dict):
            return str(entry.get("owners") or ""), str(entry.get("owners_aliases") or "")
    return DEFAULT_OWNERS_FILES


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(
        description=("The heart plugin celebrates certain GitHub actions with the reaction emojis. Emojis are added "
                     "to pull requests that make additions to OWNERS or OWNERS_ALIASES files and to comments left by "
                     "specified \"adorees\"."),
        config={"": (f"The heart plugin is configured to react to comments,  satisfying the regular expression "
                     f"{comment_regexp(plugin_config)}, left by the following GitHub users: "
                     f"{', '.join(adorees(plugin_config))}.")})


PLUGIN = register(Plugin("heart", _help))


@PLUGIN.on(IssueCommentEvent)
def handle_comment(ctx: PluginContext, event: IssueCommentEvent) -> None:
    pattern, adored = comment_regexp(ctx.plugin_config), adorees(ctx.plugin_config)
    if not pattern or not adored or not event.issue.is_pr or event.action != CREATED:
        return
    if event.comment.user.login not in adored or not re.search(pattern, event.comment.body):
        return
    org, repo = event.repo.org, event.repo.name
    ctx.once("reaction", lambda: ctx.github.create_comment_reaction(org, repo, event.comment.id,
                                                                    random.choice(REACTIONS)))


@PLUGIN.on(PullRequestEvent)
def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action != "opened":
        return
    pr = event.pull_request
    org, repo = pr.base.repo.org, pr.base.repo.name
    names = owners_filenames(ctx.plugin_config, org, repo)
    for change in ctx.github.list_pull_files(org, repo, pr.number):
        if posixpath.basename(change.get("filename", "")) in names and (change.get("additions") or 0) > 0:
            ctx.once("reaction", lambda: ctx.github.create_issue_reaction(org, repo, event.number,
                                                                          random.choice(REACTIONS)))
            return
