"""Prow's trust rule (`trigger.TrustedUser`, spec §2.2), for every plugin that asks "is this user
trusted": trigger, retitle, verify-owners, welcome. A framework module: it registers no plugin.

A user is trusted when, first true wins: it is the bot; an org member; unless the repository's
`triggers` entry sets `only_org_members`, a collaborator; a GitHub App (`<name>[bot]`) listed in
`trusted_apps` without the suffix; a member of the deprecated `trusted_org` (when set and not the
repository's org). The reason says what failed, in Prow's words.
"""
from __future__ import annotations

from dataclasses import dataclass

NOT_MEMBER = "User is not a member of the org. "
NOT_COLLABORATOR = "User is not a collaborator. "
NOT_SECONDARY_MEMBER = "User is not a member of the trusted secondary org. "
SATISFY = "Satisfy at least one of these conditions to make the user trusted."


@dataclass(frozen=True)
class TriggerTrust:
    """The trust settings of a repository's `triggers` entry (Prow's TriggerFor)."""

    only_org_members: bool = False
    trusted_apps: tuple[str, ...] = ()
    trusted_org: str = ""

    @classmethod
    def for_repo(cls, plugin_config, org: str, repo: str) -> "TriggerTrust":
        entry = plugin_config.repo_entry("triggers", org, repo) if plugin_config is not None else None
        if not isinstance(entry, dict):
            return cls()
        apps = entry.get("trusted_apps")
        return cls(only_org_members=entry.get("only_org_members") is True,
                   trusted_apps=tuple(a for a in apps if isinstance(a, str)) if isinstance(apps, list) else (),
                   trusted_org=entry.get("trusted_org") if isinstance(entry.get("trusted_org"), str) else "")


@dataclass(frozen=True)
class Trust:
    trusted: bool
    reason: str = ""


def trusted_user(ctx, user: str, org: str, repo: str) -> Trust:
    """Prow's TrustedUser for `user` on org/repo, with the repository's trigger settings."""
    settings = TriggerTrust.for_repo(ctx.plugin_config, org, repo)
    if ctx.is_bot(user):
        return Trust(True)
    gh = ctx.github
    if gh.is_member(org, user):
        return Trust(True)
    reason = NOT_MEMBER
    if not settings.only_org_members:
        if gh.is_collaborator(org, repo, user):
            return Trust(True)
        reason += NOT_COLLABORATOR
    if user.endswith("[bot]") and user.removesuffix("[bot]") in settings.trusted_apps:
        return Trust(True)
    if settings.trusted_org and settings.trusted_org != org:
        if gh.is_member(settings.trusted_org, user):
            return Trust(True)
        reason += NOT_SECONDARY_MEMBER
    return Trust(False, reason + SATISFY)
