"""verify-owners: a PR that changes OWNERS files into something Prow cannot use gets
`do-not-merge/invalid-owners-file` and a review saying what is wrong; the label goes when they are
fixed (Prow's pkg/plugins/verify-owners/verify-owners.go, spec §11).

Runs on PR opened/reopened/synchronize and on `/verify-owners` (open PRs), when the PR modifies an
OWNERS file or the root OWNERS_ALIASES, or already has the label. Checks, in Prow's words: the aliases
must decode ("The content of OWNERS_ALIASES is invalid."; empty aliases get an advisory comment);
each modified OWNERS file must decode, must not carry a label of `owners.labels_denylist` (default
approved, lgtm), and the root one must have approvers (a review with one inline comment per file);
users newly added (`+ - user` in the patch) must be trusted (org member or collaborator, as trigger
decides), unless `owners.skip_collaborators` lists this exact org/repo.

Difference from Prow: Prow checks out the PR merged into its base; we read the PR's version of the
changed files (contents API at the head commit, cached by ETag) and the base branch's OWNERS_ALIASES
when the PR leaves it alone. A merge changes neither unless it conflicts, when there is nothing to
check anyway. Advisory comments are not posted again while the bot's identical one is there.
"""
from __future__ import annotations

import re
from typing import Any

from shared import labels
from shared.config.regex import RE2Error, compile_re2
from shared.events import CREATED, GenericCommentEvent, PullRequestEvent
from shared.owners import OwnersParseError, OwnersSettings, parse_aliases, parse_owners
from shared.owners.repo import denylist_checker, parent_dir
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, comment_author, comment_body, register
from shared.plugins.respond import format_response_raw
from shared.plugins.trust import trusted_user

VERIFY_RE = re.compile(r"(?mi)^/verify-owners\s*$", re.ASCII)
INVALID_ALIASES = "The content of OWNERS_ALIASES is invalid."
EMPTY_ALIASES = "There are empty aliases in OWNER_ALIASES, cleanup is advised."
UNTRUSTED = ("The OWNERS file contains untrusted users, which makes it INVALID. The following users are mentioned "
             "in {owners} file(s) but are untrusted for the following reasons. One way to make the user trusted is "
             "to add them as [members]({join}) of the {org} org. You can then trigger verification by writing "
             "`/verify-owners` in a comment.")
MAX_TRUST_CHECKS = 50
_LINE_RE = re.compile(r"line (\d+)")
_HUNK_RE = re.compile(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    settings = OwnersSettings.for_repo("", "", plugins=plugin_config)
    config = {"default": f"{settings.owners_filename} and {settings.aliases_filename} files are validated."}
    return PluginHelp(
        description=(f"The verify-owners plugin validates OWNERS and OWNERS_ALIASES files (by default) and ensures "
                     "that they always contain collaborators of the org, if they are modified in a PR. On validation "
                     f"failure it automatically adds the '{labels.INVALID_OWNERS}' label to the PR, and a review "
                     "comment on the incriminating file(s). Per-repo configuration for filenames is possible."),
        config=config,
        commands=[Command("/verify-owners", labels.INVALID_OWNERS, ["/verify-owners"], "Anyone")])


PLUGIN = register(Plugin("verify-owners", _help))


@PLUGIN.on(PullRequestEvent)
def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action not in ("opened", "reopened", "synchronize"):
        return
    pr = event.pull_request
    handle(ctx, event.repo.org, event.repo.name, event.number or pr.number, {
        "labels": [{"name": label.name} for label in pr.labels], "head": {"sha": pr.head.sha},
        "base": {"ref": pr.base.ref}, "body": pr.body, "html_url": pr.html_url, "user": {"login": pr.user.login}})


@PLUGIN.on(GenericCommentEvent)
def handle_comment(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.issue_state != "open" or not event.is_pr or event.action != CREATED or not VERIFY_RE.search(event.body):
        return
    handle(ctx, event.repo.org, event.repo.name, event.number, None)


def added_lines(patch: str) -> dict[int, int]:
    """Prow's golint.AddedLines: new-file line number -> position in the patch, for added lines."""
    result: dict[int, int] = {}
    lines = (patch or "").split("\n")
    i = 0
    while i < len(lines):
        match = _HUNK_RE.match(lines[i])
        if not match:
            i += 1
            continue
        old_len = int(match.group(1)) if match.group(1) is not None else 1
        new_line = int(match.group(2))
        new_len = int(match.group(3)) if match.group(3) is not None else 1
        old_seen = new_seen = 0
        while (old_seen < old_len or new_seen < new_len) and i + 1 < len(lines):
            i += 1
            prefix = lines[i][:1]
            if prefix == " ":
                old_seen, new_seen = old_seen + 1, new_seen + 1
            elif prefix == "-":
                old_seen += 1
            elif prefix == "+":
                result[new_line + new_seen] = i
                new_seen += 1
        i += 1
    return result


def owners_problem(content: bytes, filename: str, patch: str, banned: tuple[str, ...]) -> tuple[int, str] | None:
    """What is wrong with one modified OWNERS file, as (position in the patch, message), or None."""
    try:
        parsed = parse_owners(content)
    except OwnersParseError as exc:
        position = 1
        match = _LINE_RE.search(str(exc))
        if match:
            position = added_lines(patch).get(int(match.group(1)), 1)
        return position, f"Cannot parse file: {exc}."
    found = parsed.all_labels() & set(banned)
    if found:
        return 1, f"File contains banned labels: [{' '.join(sorted(found))}]."
    if "/" not in filename and not parsed.has_approvers():
        return 1, "No approvers defined in this root directory OWNERS file."
    return None


def _raw_owners(content: bytes) -> list[str]:
    """Reviewers and approvers as written (Prow checks those logins against the patch)."""
    try:
        parsed = parse_owners(content)
    except OwnersParseError:
        return []
    return sorted({p for e in parsed.entries for p in e.approvers | e.reviewers})


def _newly_added(login: str, patch: str) -> bool:
    try:
        return compile_re2(rf"\+\s*-\s*\b{login}\b").search(patch or "") is not None
    except RE2Error:
        return False


def _post_once_visible(ctx: PluginContext, org: str, repo: str, number: int, text: str, step: str) -> None:
    """Post `text` unless the bot's latest comments already hold it (advisory notices)."""
    existing = [comment_body(c) for c in ctx.github.list_issue_comments(org, repo, number)
                if ctx.is_bot(comment_author(c))]
    if text not in existing:
        ctx.best_effort(f"commenting {step}", lambda: ctx.create_comment_once(org, repo, number, text, step=step))


def handle(ctx: PluginContext, org: str, repo: str, number: int, pr: dict | None) -> None:
    gh = ctx.github
    settings = OwnersSettings.for_repo(org, repo, plugins=ctx.plugin_config, prow=getattr(ctx.config, "prow", None))
    changes = gh.list_pull_files(org, repo, number)
    modified = [c for c in changes if c["filename"].rsplit("/", 1)[-1] == settings.owners_filename
                and c.get("status") != "removed"]
    aliases_change = next((c for c in changes if c["filename"] == settings.aliases_filename), None)
    pr = pr or gh.get_pull(org, repo, number)
    has_label = any(label.get("name", "").lower() == labels.INVALID_OWNERS.lower() for label in pr.get("labels") or ())
    if not modified and aliases_change is None and not has_label:
        return
    head, base = pr["head"]["sha"], pr["base"]["ref"]

    def add_label() -> None:
        if not has_label:
            ctx.best_effort("adding the label", lambda: gh.add_labels(org, repo, number, [labels.INVALID_OWNERS]))

    aliases_text = gh.get_file(org, repo, settings.aliases_filename,
                               head if aliases_change is not None and aliases_change.get("status") != "removed"
                               else base)
    aliases: dict = {}
    if aliases_text is not None:
        try:
            aliases = parse_aliases(aliases_text)
        except OwnersParseError:
            add_label()
            _post_once_visible(ctx, org, repo, number, INVALID_ALIASES, "invalid aliases")
            return
    if any(not members for members in aliases.values()):
        _post_once_visible(ctx, org, repo, number, EMPTY_ALIASES, "empty aliases")

    skip_trust = settings.skip_collaborators_exact
    untrusted: dict[str, dict[str, Any]] = {}
    trusted: set[str] = set()

    def check(login: str, patch: str, filename: str) -> None:
        if len(untrusted) + len(trusted) > MAX_TRUST_CHECKS or not _newly_added(login, patch):
            return
        if login in untrusted:
            if filename not in untrusted[login]["files"]:
                untrusted[login]["files"].append(filename)
            return
        if login in trusted:
            return
        verdict = trusted_user(ctx, login, org, repo)
        if verdict.trusted:
            trusted.add(login)
        else:
            untrusted[login] = {"files": [], "reason": verdict.reason}

    if aliases_change is not None and not skip_trust:
        for login in sorted(set().union(*aliases.values()) if aliases else ()):
            check(login, aliases_change.get("patch") or "", settings.aliases_filename)

    problems: dict[str, tuple[int, str]] = {}
    denied = denylist_checker(settings)
    for change in modified:
        filename = change["filename"]
        if denied(parent_dir(filename)):
            continue
        content = gh.get_file(org, repo, filename, head) or b""
        problem = owners_problem(content, filename, change.get("patch") or "", settings.labels_denylist)
        if problem is not None:
            problems[filename] = problem
            continue
        if not skip_trust:
            for login in _raw_owners(content):
                if login not in aliases:
                    check(login, change.get("patch") or "", filename)

    if problems:
        add_label()
        s = "" if len(problems) == 1 else "s"
        author = (pr.get("user") or {}).get("login", "")
        body = format_response_raw(pr.get("body") or "", pr.get("html_url") or "", author,
                                   f"{len(problems)} invalid {settings.owners_filename} file{s}")
        comments = [{"path": f, "body": message, "position": position} for f, (position, message) in problems.items()]
        ctx.once("review", lambda: gh.create_review(org, repo, number, body=body, event="COMMENT", commit_id=head,
                                                     comments=comments))

    join_url = f"https://github.com/orgs/{org}/people"
    entry = ctx.plugin_config.repo_entry("triggers", org, repo) if ctx.plugin_config is not None else None
    if isinstance(entry, dict) and isinstance(entry.get("join_org_url"), str) and entry["join_org_url"]:
        join_url = entry["join_org_url"]
    header = UNTRUSTED.format(owners=settings.owners_filename, join=join_url, org=org)
    if untrusted:
        add_label()
        ctx.prune_comments(org, repo, number, lambda c: header in comment_body(c))
        lines = [header]
        for login, found in untrusted.items():
            lines += [f"- {login}", f"  - {found['reason']}"] + [f"  - {f}" for f in found["files"]]
        ctx.best_effort("listing untrusted users",
                        lambda: ctx.create_comment_once(org, repo, number, "\n".join(lines), step="untrusted"))
    if not problems and not untrusted and has_label:  # the untrusted-users notice comes with the label
        gh.remove_label(org, repo, number, labels.INVALID_OWNERS)
        ctx.prune_comments(org, repo, number, lambda c: header in comment_body(c))
