"""trigger: presubmits on pull requests, postsubmits on pushes, and the `/test` family of commands
(Prow's pkg/plugins/trigger, spec/prow-hook-and-plugins.md §3).

Pull request events: `opened` (trusted author: every automatic job; a draft gets Prow's "Skipping CI"
note; an untrusted author gets the welcome comment and `needs-ok-to-test`), `reopened`,
`ready_for_review`, `edited` with a new base, `synchronize` (which first aborts the PR's unfinished
presubmits), `labeled` `lgtm` on an untrusted PR and `labeled` `ok-to-test` by a person; `closed` and
`converted_to_draft` abort. Comments: `/test <job>`, `/test all`, `/retest`, `/retest-required`,
`/test-manual-required`, `/test ?` (and the help replies), `/ok-to-test`, `/ok-to-test cancel`, and any
job's own `trigger`. Pushes: the postsubmits whose branch and file filters match the pushed commits
(the branch is the ref without `refs/heads/` or `refs/tags/`; the changed files are the payload commits'
added, removed and modified paths, as Prow reads them: no GitHub request; deleted refs start nothing).
Job selection lives in shared/jobs/selection.py (shared with status_reconciler), job records and aborts
in shared/jobs/start.py.

Differences from Prow, on purpose:
- Job ids derive from the delivery id and job name, so a delivery run again creates no second job;
  and the presubmits a delivery started are not aborted by its own retry.
- Jobs whose `agent` is not `kubernetes` (metal3's jenkins jobs) are never recorded: this app has no
  controller for them, and a record would report a status nobody completes. A comment that selects
  one gets a reply saying so; automatic triggers skip them silently.
- The base branch's SHA is read only when a job is to be created (Prow reads it for every PR event).
- In-repo config (`.prow.yaml`) and the org-invite search of the welcome comment are not implemented.
  `/test-by-label <selector>` neither: it is in one stored version of Prow's pjutil filters only, and no
  stored trigger lets a comment that holds just that command reach them (commentMatchesTrigger does
  not know it), so in Prow it selects jobs only beside another command of the same comment.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence
from urllib.parse import quote_plus

from shared.events import CREATED, GenericCommentEvent, PullRequestEvent, PushEvent
from shared.jobs import selection
from shared.jobs.model import KUBERNETES_AGENT
from shared.jobs.selection import ChangedFiles, filter_presubmits
from shared.labels import LGTM, NEEDS_OK_TO_TEST, OK_TO_TEST
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, comment_body, register
from shared.plugins.respond import ABOUT_THIS_BOT_WITHOUT_COMMANDS, format_response_raw
from shared.plugins.trust import trusted_user

RETEST_LABEL = "prow.k8s.io/retest"
NULL_SHA = "0" * 40

CANNOT_TRIGGER = "Cannot trigger testing until a trusted user reviews the PR and leaves an `/ok-to-test` message."
CANNOT_TRIGGER_IGNORE_OK_TO_TEST = (
    "PRs from untrusted users cannot be marked as trusted with `/ok-to-test` in this repo meaning untrusted PR "
    "authors can never trigger tests themselves. Collaborators can still trigger tests on the PR using `/test`.")
ONLY_TRUSTED_CANCEL = "Only trusted users can revoke `/ok-to-test`."
DRAFT_NOTE = ("Skipping CI for Draft Pull Request.\nIf you want CI signal for your change, please convert it to "
              "an actual PR.\nYou can still manually trigger a test run with `/test all`")


def agent_not_run(jobs: Sequence[Any]) -> str:
    """Our reply when a comment selects jobs of an agent this app has no controller for."""
    agents = ", ".join(f"`{a}`" for a in sorted({job.agent for job in jobs}))
    names = ", ".join(f"`{job.name}`" for job in jobs)
    return (f"This app does not run jobs of the {agents} agent, so these were not started and get no status: "
            f"{names}.")


# -- configuration ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class TriggerSettings:
    """The repository's `triggers:` entry (Prow's TriggerFor), beyond the trust fields."""

    ignore_ok_to_test: bool = False
    trigger_github_workflows: bool = False
    join_org_url: str = ""
    trusted_org: str = ""

    @classmethod
    def for_repo(cls, plugin_config, org: str, repo: str) -> "TriggerSettings":
        entry = plugin_config.repo_entry("triggers", org, repo) if plugin_config is not None else None
        if not isinstance(entry, dict):
            return cls()
        text = lambda key: entry.get(key) if isinstance(entry.get(key), str) else ""  # noqa: E731
        return cls(ignore_ok_to_test=entry.get("ignore_ok_to_test") is True,
                   trigger_github_workflows=entry.get("trigger_github_workflows") is True,
                   join_org_url=text("join_org_url"), trusted_org=text("trusted_org"))

    @property
    def honor_ok_to_test(self) -> bool:
        return not self.ignore_ok_to_test


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    return PluginHelp(
        description=(
            "The trigger plugin starts jobs in reaction to various events.\n<br>Presubmit jobs are run automatically "
            "on pull requests that are trusted and not in a draft state with file changes matching the file filters "
            "and targeting a branch matching the branch filters.\n<br>A pull request is considered trusted if the "
            "author is a member of the 'trusted organization' for the repository or if such a member has left an "
            "'/ok-to-test' command on the PR.\n<br>Trusted status granted by '/ok-to-test' can be revoked by a "
            "trusted user with '/ok-to-test cancel', which restores the 'needs-ok-to-test' label.\n<br>Trigger will "
            "not automatically start jobs for a PR in draft state, and if a PR is changed to draft it cancels pending "
            "jobs.\n<br>If jobs are not run automatically for a PR because it is not trusted or is in draft state, a "
            "trusted user can still start jobs manually via the '/test' command.\n<br>The '/retest' command can be "
            "used to rerun jobs that have reported failure.\n<br>Trigger starts postsubmit jobs when commits are "
            "pushed if the filters on the job match files and branches affected by that push."),
        commands=[
            Command("/ok-to-test", "Marks a PR as 'trusted' and starts tests.", ["/ok-to-test"],
                    "Members of the trusted organization for the repo."),
            Command("/ok-to-test cancel", "Revokes trusted status previously granted by '/ok-to-test', removing the "
                    "'ok-to-test' label and restoring 'needs-ok-to-test'.", ["/ok-to-test cancel"],
                    "Members of the trusted organization for the repo."),
            Command("/test [<job name>|all]", "Manually starts a/all automatically triggered test job(s). Lists all "
                    "possible job(s) when no jobs/an invalid job are specified.", ["/test all", "/test pull-bazel-test"],
                    "Anyone can trigger this command on a trusted PR.", featured=True),
            Command("/retest", "Rerun test jobs that have failed.", ["/retest"],
                    "Anyone can trigger this command on a trusted PR.", featured=True),
            Command("/test ?", "List available test job(s) for a trusted PR.", ["/test ?"],
                    "Anyone can trigger this command on a trusted PR.", featured=True),
        ])


PLUGIN = register(Plugin("trigger", _help))


# -- helpers ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Pull:
    """What job creation needs of a pull request, from a webhook or from the API."""

    org: str
    repo: str
    number: int
    author: str
    head_sha: str
    head_ref: str
    base_ref: str
    title: str
    draft: bool
    mergeable: bool | None

    @classmethod
    def of_event(cls, event: PullRequestEvent) -> "Pull":
        pr = event.pull_request
        return cls(pr.base.repo.org, pr.base.repo.name, pr.number or event.number, pr.user.login, pr.head.sha,
                   pr.head.ref, pr.base.ref, pr.title, pr.draft, pr.mergeable)

    @classmethod
    def of_api(cls, org: str, repo: str, pr: dict) -> "Pull":
        mergeable = pr.get("mergeable")
        return cls(org, repo, pr["number"], (pr.get("user") or {}).get("login", ""), pr["head"]["sha"],
                   pr["head"].get("ref", ""), pr["base"]["ref"], pr.get("title") or "", bool(pr.get("draft")),
                   mergeable if isinstance(mergeable, bool) else None)


def _presubmits(ctx: PluginContext, org: str, repo: str) -> list:
    jobs = ctx.config.jobs
    return jobs.presubmits_for(f"{org}/{repo}") if jobs is not None else []


def _starter(ctx: PluginContext):
    from shared.jobs.start import JobStarter
    return JobStarter.default(namespace=ctx.config.prow.prowjob_namespace)


def _label_names(labels: Iterable[Any]) -> list[str]:
    return [label.get("name", "") if isinstance(label, dict) else getattr(label, "name", "") for label in labels]


def _has(labels: Iterable[str], name: str) -> bool:
    return any(label.lower() == name.lower() for label in labels)


def trusted_pull_request(ctx: PluginContext, author: str, org: str, repo: str, number: int,
                         labels: list[str] | None = None) -> tuple[list[str] | None, bool]:
    """Prow's TrustedPullRequest: the author is trusted, or the PR has `ok-to-test` (labels read
    only when the author is not trusted). Returns (labels or None when not read, trusted)."""
    if trusted_user(ctx, author, org, repo).trusted:
        return labels, True
    if labels is None:
        labels = _label_names(ctx.github.get_issue_labels(org, repo, number))
    return labels, _has(labels, OK_TO_TEST)


def run_requested(ctx: PluginContext, pull: Pull, jobs: Sequence[Any], *, base_sha: str | None = None,
                  extra_labels: dict[str, str] | None = None) -> list:
    """Create the records of `jobs` for `pull` and queue them (none when GitHub says the PR does not
    merge). Returns the selected jobs of other agents, which are not started."""
    if pull.mergeable is False:
        ctx.log.info("not starting jobs: the pull request has merge conflicts")
        return []
    ours = [job for job in jobs if job.agent == KUBERNETES_AGENT]
    others = [job for job in jobs if job.agent != KUBERNETES_AGENT]
    if others:
        ctx.log.info("not starting %s: agents %s are not run by this app", [j.name for j in others],
                     sorted({j.agent for j in others}))
    if not ours:
        return others
    from shared.jobs.create import pull_refs
    base_sha = base_sha or ctx.github.get_ref_sha(pull.org, pull.repo, pull.base_ref)
    refs = pull_refs(pull.org, pull.repo, base_ref=pull.base_ref, base_sha=base_sha, number=pull.number,
                     sha=pull.head_sha, author=pull.author, head_ref=pull.head_ref, title=pull.title)
    started = _starter(ctx).start_presubmits(ours, refs, delivery_id=ctx.delivery_id, extra_labels=extra_labels)
    ctx.log.info("started %s", [(job.job, job.name) for job in started])
    return others


def _build_all(ctx: PluginContext, pull: Pull, presubmits: list) -> None:
    """Every automatic job whose filters match (Prow's buildAllButDrafts)."""
    if pull.draft:
        ctx.log.info("skipping all jobs for a draft pull request")
        return
    changes = ChangedFiles.for_pull(ctx.github, pull.org, pull.repo, pull.number)
    jobs = filter_presubmits(presubmits, selection.test_all_filter, branch=pull.base_ref, changes=changes)
    run_requested(ctx, pull, jobs)


def _build_all_if_trusted(ctx: PluginContext, pull: Pull, presubmits: list) -> None:
    labels, trusted = trusted_pull_request(ctx, pull.author, pull.org, pull.repo, pull.number)
    if not trusted:
        return
    if labels is not None and _has(labels, NEEDS_OK_TO_TEST):
        ctx.github.remove_label(pull.org, pull.repo, pull.number, NEEDS_OK_TO_TEST)
    _build_all(ctx, pull, presubmits)


def _abort(ctx: PluginContext, pull: Pull) -> None:
    aborted = _starter(ctx).abort_pull_jobs(pull.org, pull.repo, pull.number, delivery_id=ctx.delivery_id)
    if aborted:
        ctx.log.info("aborted %d unfinished presubmits: %s", len(aborted), aborted)


def welcome_message(settings: TriggerSettings, org: str, repo: str, author: str) -> str:
    """The comment on a PR opened by an untrusted author (Prow's welcomeMsg)."""
    commands = f"I understand the commands that are listed [here](https://go.k8s.io/bot-commands?repo={quote_plus(f'{org}/{repo}')})."
    footer = f"{commands}\n\n<details>\n\n{ABOUT_THIS_BOT_WITHOUT_COMMANDS}\n</details>\n"
    if settings.ignore_ok_to_test:
        return (f"Hi @{author}. Thanks for your PR.\n\nPRs from untrusted users cannot be marked as trusted with "
                "`/ok-to-test` in this repo meaning untrusted PR authors can never trigger tests themselves. "
                f"Collaborators can still trigger tests on the PR using `/test all`.\n\n{footer}")
    more = ""
    if settings.trusted_org and settings.trusted_org != org:
        more = f"or [{settings.trusted_org}](https://github.com/orgs/{settings.trusted_org}/people) "
    join = settings.join_org_url or f"https://github.com/orgs/{org}/people"
    return (f"Hi @{author}. Thanks for your PR.\n\nI'm waiting for a [{org}](https://github.com/orgs/{org}/people) "
            f"{more}member to verify that this patch is reasonable to test. If it is, they should reply with "
            "`/ok-to-test` on its own line. Until that is done, I will not automatically test new commits in this PR, "
            f"but the usual testing commands by org members will still work. Regular contributors should "
            f"[join the org]({join}) to skip this step.\n\nOnce the patch is verified, the new status will be "
            f"reflected by the `{OK_TO_TEST}` label.\n\n{footer}")


def _welcome(ctx: PluginContext, settings: TriggerSettings, pull: Pull) -> None:
    gh = ctx.github
    if not settings.ignore_ok_to_test:
        labels = _label_names(gh.get_issue_labels(pull.org, pull.repo, pull.number))
        if not _has(labels, OK_TO_TEST) and not _has(labels, NEEDS_OK_TO_TEST):
            gh.add_labels(pull.org, pull.repo, pull.number, [NEEDS_OK_TO_TEST])
    ctx.create_comment_once(pull.org, pull.repo, pull.number,
                            welcome_message(settings, pull.org, pull.repo, pull.author), step="welcome")


def _base_changed(event: PullRequestEvent) -> bool:
    changes = event.payload.get("changes")
    base = changes.get("base") if isinstance(changes, dict) else None
    if not isinstance(base, dict):
        return False
    return any(isinstance(base.get(key), dict) and base[key].get("from") for key in ("ref", "sha"))


# -- pull request events ------------------------------------------------------------------------------

@PLUGIN.on(PullRequestEvent)
def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    pull = Pull.of_event(event)
    presubmits = _presubmits(ctx, pull.org, pull.repo)
    if not presubmits:
        return
    settings = TriggerSettings.for_repo(ctx.plugin_config, pull.org, pull.repo)
    action = event.action
    if action == "opened":
        if trusted_user(ctx, pull.author, pull.org, pull.repo).trusted:
            if pull.draft:
                ctx.create_comment_once(pull.org, pull.repo, pull.number, DRAFT_NOTE, step="draft")
                return
            _build_all(ctx, pull, presubmits)
        else:
            _welcome(ctx, settings, pull)
    elif action in ("reopened", "ready_for_review") or (action == "edited" and _base_changed(event)):
        _build_all_if_trusted(ctx, pull, presubmits)
    elif action == "synchronize":
        _abort(ctx, pull)
        _build_all_if_trusted(ctx, pull, presubmits)
    elif action == "labeled":
        if event.label.name == LGTM:
            _, trusted = trusted_pull_request(ctx, pull.author, pull.org, pull.repo, pull.number)
            if not trusted:
                _build_all(ctx, pull, presubmits)
        elif event.label.name == OK_TO_TEST and not ctx.is_bot(event.sender.login):
            _build_all(ctx, pull, presubmits)
    elif action in ("closed", "converted_to_draft"):
        _abort(ctx, pull)


# -- comments -----------------------------------------------------------------------------------------

def _relevant(text: str, presubmits: list) -> bool:
    """Prow's commentMatchesTrigger, on the text without code blocks."""
    return bool(selection.RETEST_RE.search(text) or selection.RETEST_REQUIRED_RE.search(text)
                or selection.TEST_MANUAL_REQUIRED_RE.search(text) or selection.OK_TO_TEST_RE.search(text)
                or selection.OK_TO_TEST_CANCEL_RE.search(text) or selection.TEST_ALL_RE.search(text)
                or selection.may_need_help(text) or any(job.trigger_matches(text) for job in presubmits))


def _approve_workflow_runs(ctx: PluginContext, pull: Pull) -> None:
    runs = ctx.best_effort("listing workflow runs waiting for approval", lambda: ctx.github.list_workflow_runs(
        pull.org, pull.repo, branch=pull.head_ref, head_sha=pull.head_sha, status="action_required")) or []
    for run in runs:
        ctx.best_effort(f"approving workflow run {run['id']}",
                        lambda run=run: ctx.github.approve_workflow_run(pull.org, pull.repo, run["id"]))


def _rerun_failed_workflow_runs(ctx: PluginContext, pull: Pull) -> None:
    runs = ctx.best_effort("listing failed workflow runs", lambda: ctx.github.list_workflow_runs(
        pull.org, pull.repo, branch=pull.head_ref, head_sha=pull.head_sha, status="failure")) or []
    for run in runs:
        ctx.best_effort(f"re-running workflow run {run['id']}",
                        lambda run=run: ctx.github.rerun_failed_workflow_jobs(pull.org, pull.repo, run["id"]))


@PLUGIN.on(GenericCommentEvent)
def handle_comment(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.action != CREATED or not event.is_pr or event.issue_state != "open":
        return
    commenter = event.user.login
    if ctx.is_bot(commenter):
        return
    org, repo, number = event.repo.org, event.repo.name, event.number
    presubmits = _presubmits(ctx, org, repo)
    text = selection.drop_code_blocks(event.body)
    if not _relevant(text, presubmits):
        return
    gh = ctx.github
    settings = TriggerSettings.for_repo(ctx.plugin_config, org, repo)

    def reply(message: str, step: str) -> None:
        ctx.create_comment_once(org, repo, number, format_response_raw(event.body, event.html_url, commenter, message),
                                step=step)

    commenter_trusted = trusted_user(ctx, commenter, org, repo).trusted
    labels: list[str] | None = None
    if not commenter_trusted:
        labels, trusted = trusted_pull_request(ctx, event.issue_author.login, org, repo, number)
        if not trusted:
            reply(CANNOT_TRIGGER_IGNORE_OK_TO_TEST if settings.ignore_ok_to_test else CANNOT_TRIGGER, "untrusted")
            return
    if labels is None:
        labels = _label_names(gh.get_issue_labels(org, repo, number))

    ok_to_test = settings.honor_ok_to_test and bool(selection.OK_TO_TEST_RE.search(text))
    if ok_to_test and not _has(labels, OK_TO_TEST):
        gh.add_labels(org, repo, number, [OK_TO_TEST])
    if (ok_to_test or _has(labels, OK_TO_TEST)) and _has(labels, NEEDS_OK_TO_TEST):
        gh.remove_label(org, repo, number, NEEDS_OK_TO_TEST)
    if settings.honor_ok_to_test and selection.OK_TO_TEST_CANCEL_RE.search(text):
        if not commenter_trusted:
            reply(ONLY_TRUSTED_CANCEL, "cancel-refused")
            return
        if _has(labels, OK_TO_TEST):
            gh.remove_label(org, repo, number, OK_TO_TEST)
        if not _has(labels, NEEDS_OK_TO_TEST):
            gh.add_labels(org, repo, number, [NEEDS_OK_TO_TEST])
        return

    pull = Pull.of_api(org, repo, gh.get_pull(org, repo, number))
    base_sha = gh.get_ref_sha(org, repo, pull.base_ref)
    if ok_to_test and settings.trigger_github_workflows:
        _approve_workflow_runs(ctx, pull)

    changes = ChangedFiles.for_pull(gh, org, repo, number)
    chosen = selection.comment_filter(
        event.body, honor_ok_to_test=settings.honor_ok_to_test,
        contexts=lambda: selection.contexts_of(gh.get_combined_status(org, repo, pull.head_sha)))
    to_test = filter_presubmits(presubmits, chosen, branch=pull.base_ref, changes=changes)
    note = selection.help_note(text, len(to_test))
    if note is not None:
        test_all, optional, required = selection.available_presubmits(presubmits, branch=pull.base_ref,
                                                                      changes=changes)
        reply(selection.help_message(org, repo, pull.base_ref, note, test_all, optional, required), "help")
        return

    extra_labels = {}
    if selection.RETEST_RE.search(text) or selection.RETEST_REQUIRED_RE.search(text):
        extra_labels[RETEST_LABEL] = "true"
    if settings.trigger_github_workflows and (selection.RETEST_RE.search(text) or selection.TEST_ALL_RE.search(text)):
        _rerun_failed_workflow_runs(ctx, pull)
    if selection.TEST_OR_RETEST_RE.search(text):
        ctx.prune_comments(org, repo, number, lambda c: selection.is_help_comment(comment_body(c)))
    not_run = run_requested(ctx, pull, to_test, base_sha=base_sha, extra_labels=extra_labels)
    if not_run:
        reply(agent_not_run(not_run), "agent")


# -- pushes -------------------------------------------------------------------------------------------

@PLUGIN.on(PushEvent)
def handle_push(ctx: PluginContext, event: PushEvent) -> None:
    if event.deleted or event.after == NULL_SHA:
        return
    org, repo = event.repo.org, event.repo.name
    jobs = ctx.config.jobs.postsubmits_for(f"{org}/{repo}") if ctx.config.jobs is not None else []
    if not jobs:
        return

    def pushed() -> list[str]:
        paths: dict[str, None] = {}
        for commit in event.commits:
            for path in (*commit.added, *commit.removed, *commit.modified):
                paths[path] = None
        return list(paths)

    changes = ChangedFiles(pushed)
    to_run = [job for job in jobs if job.should_run(event.branch, changes)]
    ours = [job for job in to_run if job.agent == KUBERNETES_AGENT]
    if len(ours) < len(to_run):
        ctx.log.info("not starting postsubmits of other agents: %s",
                     [job.name for job in to_run if job.agent != KUBERNETES_AGENT])
    if not ours:
        return
    from shared.jobs.create import push_refs
    refs = push_refs(event.owner_name or org, repo, base_ref=event.branch, base_sha=event.after)
    if event.repo.html_url:
        refs["repo_link"] = event.repo.html_url
    if event.compare:
        refs["base_link"] = event.compare
    started = _starter(ctx).start_postsubmits(ours, refs, delivery_id=ctx.delivery_id)
    ctx.log.info("started postsubmits %s", [(job.job, job.name) for job in started])
