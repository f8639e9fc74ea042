"""help: `/help`, `/remove-help`, `/good-first-issue`, `/remove-good-first-issue` on open issues
(Prow's pkg/plugins/help/help.go, spec §6.7).

Only the first applicable command of a comment acts, in Prow's order: remove-help (also removes
good-first-issue), good-first-issue (adds help wanted too), help, remove-good-first-issue. Adding
posts Prow's guidance reply; removing deletes the bot's earlier guidance notices.

Differences from Prow, for retries: failing to read the labels fails the plugin (Prow carries on
as if there were none), and the guidance reply is posted at most once per delivery.
"""
from __future__ import annotations

import re

from shared import labels
from shared.events import CREATED, GenericCommentEvent
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, comment_body, register
from shared.plugins.respond import format_response_raw

DEFAULT_GUIDELINES_URL = "https://git.k8s.io/community/contributors/guide/help-wanted.md"

HELP_RE = re.compile(r"(?mi)^/help\s*$", re.ASCII)
REMOVE_HELP_RE = re.compile(r"(?mi)^/remove-help\s*$", re.ASCII)
GOOD_FIRST_ISSUE_RE = re.compile(r"(?mi)^/good-first-issue\s*$", re.ASCII)
REMOVE_GOOD_FIRST_ISSUE_RE = re.compile(r"(?mi)^/remove-good-first-issue\s*$", re.ASCII)
HELP_NOTICE = "This request has been marked as needing help from a contributor."
GOOD_FIRST_ISSUE_NOTICE = "This request has been marked as suitable for new contributors."


def _guidelines(plugin_config) -> tuple[str, str]:
    section = plugin_config.section("help") if plugin_config is not None else None
    url = summary = ""
    if isinstance(section, dict):
        url = section.get("help_guidelines_url") if isinstance(section.get("help_guidelines_url"), str) else ""
        summary = (section.get("help_guidelines_summary")
                   if isinstance(section.get("help_guidelines_summary"), str) else "")
    return url or DEFAULT_GUIDELINES_URL, summary


def _message(notice: str, url: str, summary: str, remove_command: str) -> str:
    """Prow's guidance text (it starts with a newline and a tab, as Prow's does)."""
    removal = ("If this request no longer meets these requirements, the label can be removed\n"
               f"by commenting with the `{remove_command}` command.\n")
    if summary:
        return (f"\n\t{notice}\n\n### Guidelines\n{summary}\n\nFor more details on the requirements of such an "
                f"issue, please see [here]({url}) and ensure that they are met.\n\n{removal}")
    return f"\n\t{notice}\n\nPlease ensure the request meets the requirements listed [here]({url}).\n\n{removal}"


def help_message(url: str = DEFAULT_GUIDELINES_URL, summary: str = "") -> str:
    return _message(HELP_NOTICE, url, summary, "/remove-help")


def good_first_issue_message(url: str = DEFAULT_GUIDELINES_URL, summary: str = "") -> str:
    return _message(GOOD_FIRST_ISSUE_NOTICE, url + "#good-first-issue", summary, "/remove-good-first-issue")


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(
        description=(f"The help plugin provides commands that add or remove the '{labels.HELP}' and the "
                     f"'{labels.GOOD_FIRST_ISSUE}' labels from issues."),
        commands=[Command(
            usage="/[remove-](help|good-first-issue)",
            description=f"Applies or removes the '{labels.HELP}' and '{labels.GOOD_FIRST_ISSUE}' labels to an issue.",
            examples=["/help", "/remove-help", "/good-first-issue", "/remove-good-first-issue"],
            who_can_use="Anyone can trigger this command on a PR.")])


PLUGIN = register(Plugin("help", _help))


def _notice_pruner(notice: str):
    return lambda comment: notice in comment_body(comment)


@PLUGIN.on(GenericCommentEvent)
def handle(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.is_pr or event.issue_state != "open" or event.action != CREATED:
        return
    body = event.body
    wanted = (REMOVE_HELP_RE.search(body), GOOD_FIRST_ISSUE_RE.search(body), HELP_RE.search(body),
              REMOVE_GOOD_FIRST_ISSUE_RE.search(body))
    if not any(wanted):
        return
    org, repo, number = event.repo.org, event.repo.name, event.number
    gh = ctx.github
    current = {label["name"].lower() for label in gh.get_issue_labels(org, repo, number)}
    has_help = labels.HELP.lower() in current
    has_good_first_issue = labels.GOOD_FIRST_ISSUE.lower() in current
    remove_help, good_first_issue, add_help, remove_good_first_issue = wanted

    if has_help and remove_help:
        ctx.best_effort(f"removing label {labels.HELP}", lambda: gh.remove_label(org, repo, number, labels.HELP))
        ctx.prune_comments(org, repo, number, _notice_pruner(HELP_NOTICE))
        if has_good_first_issue:
            ctx.best_effort(f"removing label {labels.GOOD_FIRST_ISSUE}",
                            lambda: gh.remove_label(org, repo, number, labels.GOOD_FIRST_ISSUE))
            ctx.prune_comments(org, repo, number, _notice_pruner(GOOD_FIRST_ISSUE_NOTICE))
        return

    url, summary = _guidelines(ctx.plugin_config)
    if not has_good_first_issue and good_first_issue:
        reply = format_response_raw(body, event.issue_html_url, event.user.login,
                                    good_first_issue_message(url, summary))
        ctx.best_effort("commenting", lambda: ctx.create_comment_once(org, repo, number, reply))
        added = [labels.GOOD_FIRST_ISSUE] + ([] if has_help else [labels.HELP])
        ctx.best_effort(f"adding labels {added}", lambda: gh.add_labels(org, repo, number, added))
        return

    if not has_help and add_help:
        reply = format_response_raw(body, event.issue_html_url, event.user.login, help_message(url, summary))
        ctx.best_effort("commenting", lambda: ctx.create_comment_once(org, repo, number, reply))
        ctx.best_effort(f"adding label {labels.HELP}", lambda: gh.add_labels(org, repo, number, [labels.HELP]))
        return

    if has_good_first_issue and remove_good_first_issue:
        ctx.best_effort(f"removing label {labels.GOOD_FIRST_ISSUE}",
                        lambda: gh.remove_label(org, repo, number, labels.GOOD_FIRST_ISSUE))
        ctx.prune_comments(org, repo, number, _notice_pruner(GOOD_FIRST_ISSUE_NOTICE))
