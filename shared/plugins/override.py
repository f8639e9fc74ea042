"""override: `/override`, `/override-sticky` and `/override-cancel` on open PRs, for authorised users
(Prow's pkg/plugins/override/override.go, spec §7).

Who may: repo admins; members of the teams `override.allowed_github_teams` lists for the repo or its
org; with `override.allow_top_level_owners`, the approvers of the root OWNERS file at the PR's base
branch. The three commands of one comment run in Prow's order: cancel, sticky, plain.

`/override <name>...` accepts a status context that is not passing on the PR's head, the name of
the presubmit reporting such a context, or a context branch protection requires and nobody has
reported yet. Each is set to `success` with "Overridden by <user>" (sticky: plus Tide's
skip-retest sentinel) and the current base SHA, then one reply lists what was overridden. Any
unknown name refuses the whole command with Prow's list of what could be overridden.
`/override-cancel [<context>...]` sets the overridden contexts (all, or those named) to `failure`.

Differences from Prow:
- Prow also creates a successful ProwJob record for a presubmit's context, so Tide sees a passing
  job; this app has no job records yet (issue 5), so only the status is written.
- Check runs (read and created only under GitHub App auth, as in Prow): a refused creation is
  answered "cannot create prow-override CheckRun <name>" (Prow prints its whole request struct).
- Branch protection is read only when a name is not found among the head's statuses (Prow always
  reads it); the outcome is the same, and the read needs admin rights a bot often lacks.
- Prow lists the org's teams only to log unknown slugs; that request is not made.
- A context is written once per command, and not again when its latest status already says the
  same (a retried delivery); Prow writes once per non-passing status in the context's history.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.events import CREATED, GenericCommentEvent, norm_login
from shared.github.statuses import SKIP_RETEST_SENTINEL, description_with_base_sha
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, register
from shared.plugins.respond import format_response_raw

OVERRIDE_RE = re.compile(r"(?mi)^/override( ([^\r\n]+))?[\r\n]?$", re.ASCII)
STICKY_RE = re.compile(r"(?mi)^/override-sticky( ([^\r\n]+))?[\r\n]?$", re.ASCII)
CANCEL_RE = re.compile(r"(?mi)^/override-cancel( ([^\r\n]+))?[\r\n]?$", re.ASCII)
OVERRIDDEN_BY = "Overridden by"
SUCCESS, FAILURE = "success", "failure"

SNIPPET = """override:
  allow_top_level_owners: true
  allowed_github_teams:
    kubernetes/kubernetes:
    - team1
    - team2
"""
STICKY_NOTE = ("\n\nThese overrides will persist across retests on the current HEAD SHA. Pushing a new commit "
               "will clear them. Use `/override-cancel` to remove them.")


@dataclass(frozen=True)
class Options:
    """The `override:` section of plugins.yaml."""

    allow_top_level_owners: bool = False
    allowed_github_teams: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, plugin_config) -> "Options":
        section = plugin_config.section("override") if plugin_config is not None else None
        if not isinstance(section, dict):
            return cls()
        teams = section.get("allowed_github_teams")
        allowed = {str(key): [t for t in value if isinstance(t, str)]
                   for key, value in (teams.items() if isinstance(teams, dict) else ())
                   if isinstance(value, list)}
        return cls(section.get("allow_top_level_owners") is True, allowed)

    def teams_for(self, org: str, repo: str) -> list[str]:
        return [*self.allowed_github_teams.get(f"{org}/{repo}", ()), *self.allowed_github_teams.get(org, ())]


def who_can_use(options: Options, org: str = "", repo: str = "") -> str:
    """Prow's whoCanUse (org and repo empty: every configured team, for the help)."""
    owners = ", approvers in top level OWNERS file" if options.allow_top_level_owners else ""
    teams = ""
    if options.allowed_github_teams:
        full = f"{org}/{repo}"
        listed = sorted(f"{key}: {' '.join(slugs)}" for key, slugs in options.allowed_github_teams.items()
                        if full == "/" or key in (full, org))
        teams = ", and the following github teams:" + ", ".join(listed)
    return "Repo administrators" + owners + teams + "."


def parse_names(text: str) -> list[str]:
    """Prow's parseOverrideInput: names split at spaces outside double quotes, quotes trimmed."""
    names, current, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == " " and not quoted:
            if current:
                names.append("".join(current))
                current = []
            continue
        current.append(ch)
    if current:
        names.append("".join(current))
    return [name.strip().strip('"') for name in names]


def format_list(items) -> str:
    return "\n".join(f" - `{item}`" for item in items)


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    who = who_can_use(Options.of(plugin_config))
    return PluginHelp(
        description="The override plugin allows repo admins to force a github status context to pass",
        snippet=SNIPPET,
        commands=[
            Command("/override [context1] [context2]",
                    "Forces github status contexts to green (multiple can be given). If the desired context has "
                    "spaces, it must be quoted. Overrides expire when the base branch moves.",
                    ["/override pull-repo-whatever", '/override "test / Unit Tests"', "/override ci/circleci",
                     "/override deleted-job other-job"], who),
            Command("/override-sticky [context1] [context2]",
                    "Like /override, but the override persists across retests on the current HEAD SHA even when "
                    "the base branch moves. Pushing a new commit clears them. Use /override-cancel to remove.",
                    ["/override-sticky pull-repo-whatever", '/override-sticky "test / Unit Tests"'], who),
            Command("/override-cancel [context]",
                    "Removes overrides by setting the status back to failure. Works on both regular and sticky "
                    "overrides. If a context is given, only that override is removed. If no context is given, "
                    "all overrides on the PR are removed.",
                    ["/override-cancel pull-repo-whatever", "/override-cancel"], who),
        ])


PLUGIN = register(Plugin("override", _help))


class _Reply(Exception):
    """Stop the command and answer the user with this text (Prow's early `return CreateComment`)."""


def _refused(ctx: PluginContext, what: str, action, on_refusal):
    """`action()`; when GitHub refuses it for good (404, 403, 422, ...), log it and return
    `on_refusal()`. Rate limits and transient errors propagate, so the delivery is retried."""
    from shared.github.errors import GitHubError, RateLimited, TransientError
    try:
        return action()
    except (RateLimited, TransientError):
        raise
    except GitHubError as exc:
        ctx.log.warning("%s: %s", what, exc)
        return on_refusal()


def _reply(text: str):
    def raise_reply():
        raise _Reply(text)
    return raise_reply


class _Command:
    """One of the three commands for one comment."""

    def __init__(self, ctx: PluginContext, event: GenericCommentEvent, options: Options, name: str):
        self.ctx, self.event, self.options, self.name = ctx, event, options, name
        self.org, self.repo, self.number = event.repo.org, event.repo.name, event.number
        self.user = event.user.login
        self.gh = ctx.github

    def reply(self, text: str, *, step: str = "") -> None:
        body = format_response_raw(self.event.body, self.event.html_url, self.user, text)
        self.ctx.create_comment_once(self.org, self.repo, self.number, body, step=step or f"comment {self.name}")

    def read(self, failure: str, action):
        """A read whose refusal by GitHub Prow answers with `failure`."""
        return _refused(self.ctx, failure, action, _reply(failure))

    def pull(self) -> dict:
        return self.read(f"Cannot get PR #{self.number} in {self.org}/{self.repo}",
                         lambda: self.gh.get_pull(self.org, self.repo, self.number))

    def statuses(self, sha: str) -> list[dict]:
        """Every status of the head, newest first (Prow's ListStatuses)."""
        return self.read(f"Cannot get commit statuses for PR #{self.number} in {self.org}/{self.repo}",
                         lambda: self.gh.list_statuses(self.org, self.repo, sha))

    def authorize(self, pull: dict) -> None:
        if not _authorized(self.ctx, self.options, self.org, self.repo, self.user, pull):
            raise _Reply(f"{self.user} unauthorized: {self.name} is restricted to "
                         f"{who_can_use(self.options, self.org, self.repo)}")

    def set_status(self, sha: str, status: dict, state: str, description: str, latest: dict | None) -> None:
        """Write `status` with a new state and description, unless its latest status already says so."""
        if latest is not None and latest.get("state") == state and latest.get("description") == description:
            return
        failure = f"Cannot update PR status for context {status['context']}"
        _refused(self.ctx, failure,
                 lambda: self.gh.create_status(self.org, self.repo, sha, state=state, context=status["context"],
                                               description=description, target_url=status.get("target_url")),
                 _reply(failure))


def _latest_by_context(statuses: list[dict]) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for status in statuses:                     # newest first
        latest.setdefault(status.get("context") or "", status)
    return latest


def _better(previous: str, current: str) -> bool:
    """Prow's isStateBetter, for check runs of the same name."""
    return (current == "SUCCESS" or (current == "PENDING" and previous in ("ERROR", "FAILURE", "EXPECTED"))
            or (previous == "EXPECTED" and current in ("ERROR", "FAILURE")))


def check_run_states(runs: list[dict]) -> dict[str, str]:
    """The best state of each check run name, as Prow reads them: not completed is PENDING, a neutral
    conclusion is SUCCESS, otherwise the conclusion in capitals."""
    best: dict[str, str] = {}
    for run in runs:
        conclusion = (run.get("conclusion") or "").upper()
        state = "PENDING" if not run.get("completed_at") else "SUCCESS" if conclusion == "NEUTRAL" else conclusion
        name = run.get("name") or ""
        if name not in best or _better(best[name], state):
            best[name] = state
    return best


def _authorized(ctx: PluginContext, options: Options, org: str, repo: str, user: str, pull: dict) -> bool:
    """Prow's isAuthorized: repo admin, then a listed team, then a top-level OWNERS approver. A
    failed check counts as "no" (and is logged), as in Prow."""
    gh = ctx.github

    def check(what: str, action) -> bool:
        return _refused(ctx, f"cannot determine whether {user} is {what}", action, lambda: False)

    if check(f"an admin of {org}/{repo}", lambda: gh.get_permission(org, repo, user) == "admin"):
        return True
    for slug in options.teams_for(org, repo):
        # Prow compares team logins exactly (not case-insensitively).
        if check(f"in team {slug} of {org}",
                 lambda: any(m.get("login") == user for m in gh.list_team_members(org, slug, "all"))):
            return True
    if options.allow_top_level_owners:
        base = (pull.get("base") or {}).get("ref") or ""
        return check(f"a top level owner of {org}/{repo}",
                     lambda: norm_login(user) in _top_level_approvers(ctx, org, repo, base))
    return False


def _top_level_approvers(ctx: PluginContext, org: str, repo: str, base_ref: str) -> set[str]:
    """The approvers of the root OWNERS file at `base_ref` (normalised logins)."""
    from shared.owners import load_repo_owners
    owners = load_repo_owners(ctx.github, org, repo, base_ref, plugins=ctx.plugin_config, prow=ctx.config.prow)
    return set(owners.top_level_approvers())


def _cancel(cmd: _Command, matches: list[re.Match]) -> None:
    pull = cmd.pull()
    cmd.authorize(pull)
    sha = pull["head"]["sha"]
    cancel_all = any(not m.group(1) for m in matches)
    wanted = {name for m in matches if m.group(1) for name in parse_names(m.group(2))}
    statuses = cmd.statuses(sha)
    latest = _latest_by_context(statuses)
    description = f"Override cancelled by {cmd.user}"
    chosen: dict[str, dict] = {}
    for status in statuses:
        context = status.get("context") or ""
        if OVERRIDDEN_BY in (status.get("description") or "") and (cancel_all or context in wanted):
            chosen[context] = status       # the oldest such entry: what Prow's last write leaves
    cancelled: list[str] = []
    for context, status in chosen.items():
        cmd.set_status(sha, status, FAILURE, description, latest.get(context))
        cancelled.append(context)
    if not cancelled:
        raise _Reply("No overrides found to cancel")
    cmd.reply(f"Cancelled overrides on behalf of {cmd.user}: {', '.join(sorted(cancelled))}")


def _override(cmd: _Command, matches: list[re.Match], sticky: bool) -> None:
    if any(not m.group(1) for m in matches):
        raise _Reply(f"{cmd.name} requires failed status contexts to operate on, but none was given")
    wanted = {name for m in matches for name in parse_names(m.group(2))}
    pull = cmd.pull()
    cmd.authorize(pull)
    sha = pull["head"]["sha"]
    statuses = cmd.statuses(sha)
    latest = _latest_by_context(statuses)
    check_runs: dict[str, str] = {}
    if cmd.gh.uses_app_auth():
        check_runs = check_run_states(cmd.read(
            f"Cannot get commit checkruns for PR #{cmd.number} in {cmd.org}/{cmd.repo}",
            lambda: cmd.gh.list_check_runs(cmd.org, cmd.repo, sha)))
    presubmits = cmd.ctx.config.jobs.presubmits_for(f"{cmd.org}/{cmd.repo}")
    job_by_context = {}
    for job in presubmits:
        job_by_context.setdefault(job.context, job)

    candidates: set[str] = set()
    for status in statuses:
        if status.get("state") == SUCCESS:
            continue
        context = status.get("context") or ""
        candidates.add(context)
        if context in job_by_context:
            candidates.add(job_by_context[context].name)
    for name, state in check_runs.items():
        # A run this command created in an earlier attempt of the delivery is still this command's.
        if name and (state not in ("SUCCESS", "PENDING") or cmd.ctx.journal.done(_check_run_step(cmd, name))):
            candidates.add(name)

    def needs_protection() -> bool:
        """Whether branch protection could change the outcome: a name not found yet, or a job named
        whose context has no status (a required context nobody reported)."""
        reported = {s.get("context") or "" for s in statuses}
        return bool(wanted - candidates) or any(
            job.name in wanted and job.context not in reported for job in presubmits)

    targets = list(statuses)
    if needs_protection():
        base_ref = pull["base"]["ref"]
        protection = cmd.read(f"Cannot get branch protection for branch {base_ref} in {cmd.org}/{cmd.repo}",
                              lambda: cmd.gh.get_branch_protection(cmd.org, cmd.repo, base_ref))
        required = ((protection or {}).get("required_status_checks") or {}).get("contexts") or []
        for context in required:
            if context not in candidates:
                candidates.add(context)
                targets.append({"context": context, "state": ""})

    unknown = wanted - candidates
    if unknown:
        raise _Reply(f"{cmd.name} requires failed status contexts, check run or a prowjob name to operate on.\n"
                     f"The following unknown contexts/checkruns were given:\n{format_list(sorted(unknown))}\n\n"
                     f"Only the following failed contexts/checkruns were expected:\n"
                     f"{format_list(sorted(candidates))}\n\n"
                     f"If you are trying to override a checkrun that has a space in it, you must put a double "
                     f"quote on the context.\n")

    base_sha = cmd.read("Cannot get base ref of PR",
                        lambda: cmd.gh.get_ref_sha(cmd.org, cmd.repo, pull["base"]["ref"]))
    human = f"{OVERRIDDEN_BY} {cmd.user}" + (f" {SKIP_RETEST_SENTINEL}" if sticky else "")
    description = description_with_base_sha(human, base_sha)
    chosen: dict[str, dict] = {}
    for status in targets:
        context = status.get("context") or ""
        job = job_by_context.get(context)
        if status.get("state") != SUCCESS and (context in wanted or (job is not None and job.name in wanted)):
            chosen[context] = status       # the oldest such entry: what Prow's last write leaves
    done: set[str] = set()
    try:
        for context, status in chosen.items():
            cmd.set_status(sha, status, SUCCESS, description, latest.get(context))
            done.add(context)
        for name in sorted(wanted & set(check_runs)):
            _create_check_run(cmd, sha, name)
            done.add(name)
    except _Reply as refusal:
        # Prow answers the failed write, then still reports what it did (its deferred reply).
        cmd.reply(str(refusal))
    if done:
        message = f"Overrode contexts on behalf of {cmd.user}: {', '.join(sorted(done))}"
        cmd.reply(message + (STICKY_NOTE if sticky else ""), step=f"comment {cmd.name} done")


def _check_run_step(cmd: _Command, name: str) -> str:
    return f"check run {cmd.name} {name}"


def _create_check_run(cmd: _Command, sha: str, name: str) -> None:
    """A new successful check run of the same name (Tide takes the best run of a name)."""
    output = {"title": f"Prow override - {name}",
              "summary": f"Prow has received override command for the {name} checkrun."}
    create = lambda: cmd.gh.create_check_run(cmd.org, cmd.repo, name=name, head_sha=sha,  # noqa: E731
                                             status="completed", conclusion="success", output=output)
    failure = f"cannot create prow-override CheckRun {name}"
    cmd.ctx.once(_check_run_step(cmd, name), lambda: _refused(cmd.ctx, failure, create, _reply(failure)))


@PLUGIN.on(GenericCommentEvent)
def handle(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if not event.is_pr or event.issue_state != "open" or event.action != CREATED:
        return
    commands = [("/override-cancel", CANCEL_RE, lambda cmd, found: _cancel(cmd, found)),
                ("/override-sticky", STICKY_RE, lambda cmd, found: _override(cmd, found, sticky=True)),
                ("/override", OVERRIDE_RE, lambda cmd, found: _override(cmd, found, sticky=False))]
    options = None
    for name, regex, run in commands:
        found = list(regex.finditer(event.body))
        if not found:
            continue
        options = options or Options.of(ctx.plugin_config)
        cmd = _Command(ctx, event, options, name)
        try:
            run(cmd, found)
        except _Reply as refusal:
            cmd.reply(str(refusal))
