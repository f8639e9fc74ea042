"""milestone: `/milestone <title>` and `/milestone clear` for members of the milestone maintainers team
(Prow's pkg/plugins/milestone/milestone.go, spec §12). Issues and PRs; new text only; the command is
case-sensitive and only its first line counts.

The team is `repo_milestone["org/repo"]`, else `repo_milestone[""]`: `maintainers_team` (a slug) and
`maintainers_friendly_name` for the refusal. Titles are those of the repository's open milestones.

Differences from Prow: membership is one request for the commenter instead of listing the whole team;
the legacy numeric `maintainers_id` alone is not supported (the command is refused and an error
logged), because GitHub's by-id team endpoints are deprecated.
"""
from __future__ import annotations

import re

from shared.events import CREATED, GenericCommentEvent
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, register
from shared.plugins.respond import format_response_raw

MILESTONE_RE = re.compile(r"(?m)^/milestone\s+(.+?)\s*$", re.ASCII)
CLEAR = "clear"
MUST_BE_AUTHORIZED = ("You must be a member of the [{org}/{team}](https://github.com/orgs/{org}/teams/{team}/members) "
                      "GitHub team to set the milestone. If you believe you should be able to issue the /milestone "
                      "command, please contact your {friendly} and have them propose you as an additional delegate "
                      "for this responsibility.")
INVALID = ("The provided milestone is not valid for this repository. Milestones in this repository: [{titles}]\n\n"
           "Use `/milestone {clear}` to clear the milestone.")


def maintainers(plugin_config, org: str, repo: str) -> dict:
    """The repository's `repo_milestone` entry, else the default entry (key "")."""
    section = plugin_config.section("repo_milestone") if plugin_config is not None else None
    section = section if isinstance(section, dict) else {}
    entry = section.get(f"{org}/{repo}", section.get(""))
    return entry if isinstance(entry, dict) else {}


def milestone_numbers(milestones: list[dict]) -> dict[str, int]:
    """Prow's BuildMilestoneMap: title -> number."""
    return {m["title"]: m["number"] for m in milestones if isinstance(m.get("title"), str)}


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    def team_text(entry: dict) -> str:
        return (f"The milestone maintainers team is the GitHub team \"{entry.get('maintainers_team') or ''}\" "
                f"with ID: {entry.get('maintainers_id') or 0}.")
    section = plugin_config.section("repo_milestone") if plugin_config is not None else None
    section = section if isinstance(section, dict) else {}
    config = {repo: team_text(section[repo]) for repo in enabled_repos if isinstance(section.get(repo), dict)}
    config[""] = team_text(section.get("") if isinstance(section.get(""), dict) else {})
    return PluginHelp(
        description=("The milestone plugin allows members of a configurable GitHub team to set the milestone on an "
                     "issue or pull request."),
        config=config,
        commands=[Command("/milestone <version> or /milestone clear", "Updates the milestone for an issue or PR",
                          ["/milestone v1.10", "/milestone v1.9", "/milestone clear"],
                          "Members of the milestone maintainers GitHub team can use the '/milestone' command.")])


PLUGIN = register(Plugin("milestone", _help))


@PLUGIN.on(GenericCommentEvent)
def handle(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.action != CREATED:
        return
    m = MILESTONE_RE.search(event.body)
    if m is None:
        return
    org, repo, number, user = event.repo.org, event.repo.name, event.number, event.user.login
    gh = ctx.github
    entry = maintainers(ctx.plugin_config, org, repo)
    team = entry.get("maintainers_team") if isinstance(entry.get("maintainers_team"), str) else ""

    def reply(text: str) -> None:
        ctx.create_comment_once(org, repo, number, format_response_raw(event.body, event.html_url, user, text))

    if not team:
        ctx.log.error("repo_milestone for %s/%s names no maintainers_team (maintainers_id alone is not supported)",
                      org, repo)
    if not team or not gh.team_has_member(org, team, user):
        return reply(MUST_BE_AUTHORIZED.format(org=org, team=team,
                                               friendly=entry.get("maintainers_friendly_name") or ""))
    wanted = m.group(1)
    if wanted == CLEAR:
        ctx.best_effort("clearing the milestone", lambda: gh.edit_issue(org, repo, number, milestone=None))
        return
    numbers = milestone_numbers(gh.list_milestones(org, repo))
    if wanted not in numbers:
        titles = ", ".join(sorted(f"`{title}`" for title in numbers))
        return reply(INVALID.format(titles=titles, clear=CLEAR))
    ctx.best_effort(f"setting the milestone {wanted}",
                    lambda: gh.edit_issue(org, repo, number, milestone=numbers[wanted]))
