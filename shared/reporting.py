"""Crier's GitHub reporter (`github-reporter`): a commit status per job state, and the failure comment.

What is reported is remembered in the job: `status.prev_report_states["github-reporter"]` is the
state last reported. `needs_report(job)` is "should report and that state differs from the job's",
so a report that failed (GitHub down, rate limited) is simply tried again by the next reconcile,
and a state already reported is never posted again.

Status (`pkg/github/report`): GitHub state from the job state (triggered, pending → pending;
success; failure, aborted → failure; error), on `pulls[0].sha` (presubmits) or `base_sha`, with
the job's context, `target_url` = `status.url`, and the description with Prow's ` BaseSHA:<sha>`
suffix that Tide reads. Jobs of more than one pull (batches) get no status. GitHub's "maximum number
of statuses", "Not Found" and "No commit found for SHA" answers are final: nothing to retry.

Failure comment (presubmits of one pull, complete jobs, not in `github_reporter.no_comment_repos`):
the bot's comments holding `<!-- test report -->` are read, older ones deleted; rows of other
contexts are kept (the latest per context), the reported job's row is dropped, and re-added when it
failed; a new failure row deletes the comment and posts a fresh one at the bottom of the PR, no
rows left deletes it, otherwise it is edited in place. `plank.report_templates` (`org/repo`,
`org`, `*`) is rendered into it. In `github_reporter.summary_comment_repos` (org or org/repo) the
comment covers the newest run of every reporting job of the PR, only once all the PR's jobs are
complete, and is posted even when all passed ("all tests **passed!**") unless one was aborted.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

from shared.github.errors import NotFound, ValidationFailed
from shared.github.statuses import description_with_base_sha
from shared.gotemplate import parse, render_for_job
from shared.jobs.model import (ABORTED, ERROR, FAILURE, IS_OPTIONAL_LABEL, PENDING, POSTSUBMIT, PRESUBMIT,
                               SCHEDULING, SUCCESS, TRIGGERED, ProwJob)
from shared.plugins.respond import ABOUT_THIS_BOT

log = logging.getLogger("prow.report")

REPORTER = "github-reporter"
COMMENT_TAG = "<!-- test report -->"
GERRIT_REPORT_LABEL = "prow.k8s.io/gerrit-report-label"
DEFAULT_JOB_TYPES = (PRESUBMIT, POSTSUBMIT)
_GITHUB_STATES = {SCHEDULING: "pending", TRIGGERED: "pending", PENDING: "pending", SUCCESS: "success",
                  FAILURE: "failure", ABORTED: "failure", ERROR: "error"}
_FINAL_ANSWERS = ("This SHA and context has reached the maximum number of statuses", "No commit found for SHA")


@dataclass(frozen=True)
class ReporterConfig:
    job_types_to_report: tuple[str, ...] = DEFAULT_JOB_TYPES
    no_comment_repos: tuple[str, ...] = ()
    report_templates: Mapping[str, str] = field(default_factory=dict)
    summary_comment_repos: tuple[str, ...] = ()

    @classmethod
    def from_prow(cls, raw: Mapping[str, Any] | None) -> "ReporterConfig":
        raw = raw if isinstance(raw, Mapping) else {}
        reporter = raw.get("github_reporter") or {}
        plank = raw.get("plank") or {}
        types = reporter.get("job_types_to_report")
        templates = dict(plank.get("report_templates") or {})
        if not templates and plank.get("report_template"):
            templates = {"*": plank["report_template"]}        # Prow's deprecated single template
        return cls(job_types_to_report=tuple(types) if types else DEFAULT_JOB_TYPES,
                   no_comment_repos=tuple(reporter.get("no_comment_repos") or ()),
                   summary_comment_repos=tuple(reporter.get("summary_comment_repos") or ()),
                   report_templates=templates)

    def summary_comments(self, org: str, repo: str) -> bool:
        """`summary_comment_repos`: one comment for all of a PR's jobs once they are all complete."""
        return org in self.summary_comment_repos or f"{org}/{repo}" in self.summary_comment_repos

    def template_for(self, org: str, repo: str) -> str | None:
        for key in (f"{org}/{repo}", org, "*"):
            if key in self.report_templates:
                return self.report_templates[key]
        return None


def reported_state(job: ProwJob) -> str:
    return (job.status.get("prev_report_states") or {}).get(REPORTER, "")


def should_report(job: ProwJob, config: ReporterConfig) -> bool:
    return (bool(job.spec.get("report")) and job.type in config.job_types_to_report
            and not job.labels.get(GERRIT_REPORT_LABEL) and bool(job.refs))


def needs_report(job: ProwJob, config: ReporterConfig) -> bool:
    return should_report(job, config) and reported_state(job) != job.state


def status_for(job: ProwJob) -> dict[str, str]:
    """The commit status Prow posts for the job's current state."""
    refs = job.refs or {}
    pulls = refs.get("pulls") or []
    return {"sha": pulls[0].get("sha", "") if pulls else refs.get("base_sha", ""),
            "state": _GITHUB_STATES[job.state], "context": job.spec.get("context", ""),
            "description": description_with_base_sha(job.description, refs.get("base_sha", "")),
            "target_url": job.status.get("url", "")}


def _is_final_answer(exc: Exception) -> bool:
    if isinstance(exc, NotFound):
        return True
    return isinstance(exc, ValidationFailed) and any(text in str(exc) for text in _FINAL_ANSWERS)


# -- the failure comment ----------------------------------------------------------------------

def _entry(job: ProwJob) -> str:
    required = "unknown"
    if job.type == PRESUBMIT and job.labels.get(IS_OPTIONAL_LABEL, "").lower() in ("true", "false", "1", "0",
                                                                                   "t", "f"):
        required = "false" if job.labels[IS_OPTIONAL_LABEL].lower() in ("true", "1", "t") else "true"
    pull = job.refs["pulls"][0]
    return " | ".join([job.spec.get("context", ""), pull.get("sha", ""), f"[link]({job.status.get('url', '')})",
                       required, f"`{job.spec.get('rerun_command', '')}`"])


def plan_comment(jobs: list[ProwJob], comments: Iterable[Mapping[str, Any]],
                 is_bot) -> tuple[list[int], list[str], int]:
    """Prow's parseIssueComments: (comment ids to delete, rows to show, id of the comment to edit or 0)."""
    deletes: list[int] = []
    latest = 0
    entries: list[str] = []
    for comment in comments:
        if not is_bot((comment.get("user") or {}).get("login", "")) or COMMENT_TAG not in (comment.get("body") or ""):
            continue
        if latest:
            deletes.append(latest)
        latest = int(comment["id"])
        tracking = False
        for line in comment["body"].split("\n"):
            line = line.strip()
            if line.startswith("---"):
                tracking = True
            elif not line:
                tracking = False
            elif tracking:
                entries.append(line)
    contexts = {job.spec.get("context", "") for job in jobs}
    kept = []
    for i, entry in enumerate(entries):
        name = entry.split(" | ")[0]
        newer = any(j > i and other.split(" | ")[0] == name for j, other in enumerate(entries))
        if not newer and name not in contexts:
            kept.append(entry)
    failed = [job for job in jobs if job.state == FAILURE]
    kept += [_entry(job) for job in failed]
    if (failed or not kept) and latest:
        deletes.append(latest)
        latest = 0
    return deletes, kept, latest


def comment_body(jobs: list[ProwJob], entries: list[str], template: str | None) -> str:
    """Prow's createComment: the failed rows, or (a summary with none) "all tests **passed!**";
    the author and the template are the first job's."""
    first = jobs[0]
    author = first.refs["pulls"][0].get("author", "")
    if entries:
        plural = "s" if len(entries) > 1 else ""
        lines = [f"@{author}: The following test{plural} **failed**, say `/retest` to rerun all failed tests or "
                 "`/retest-required` to rerun all mandatory failed tests:", "",
                 "Test name | Commit | Details | Required | Rerun command", "--- | --- | --- | --- | ---", *entries]
    else:
        lines = [f"@{author}: all tests **passed!**", ""]
    if template is not None:
        lines += ["", render_for_job(parse(template), first.to_dict())]
    lines += ["", "<details>", "", ABOUT_THIS_BOT, "</details>", COMMENT_TAG]
    return "\n".join(lines)


def summary_jobs(job: ProwJob, pull_jobs: Iterable[ProwJob]) -> list[ProwJob]:
    """Prow's pjsToReport for `summary_comment_repos`: the newest run of each reporting job of the PR,
    the reported job first, or none while any job of the PR is still running."""
    newest: dict[str, ProwJob] = {}
    for other in pull_jobs:
        other = job if other.name == job.name else other          # the reported job as this tick has it
        if not other.complete:
            return []
        if not other.spec.get("report"):
            continue
        if other.job not in newest or other.created > newest[other.job].created:
            newest[other.job] = other
    return sorted(newest.values(), key=lambda j: (j.name != job.name, j.created))


def _bot_checker(login: str):
    bot = login.lower().removesuffix("[bot]")
    return lambda candidate: candidate.lower().removesuffix("[bot]") == bot


class GitHubReporter:
    """Reports one job through a GitHub session (`shared.github.client.EventSession`)."""

    def __init__(self, config: ReporterConfig,
                 pull_jobs: Callable[[str, str, int], Iterable[ProwJob]] = lambda org, repo, number: ()):
        self.config = config
        self.pull_jobs = pull_jobs       # (org, repo, number) -> the PR's jobs: summary comments read them

    def report(self, gh: Any, job: ProwJob, *, before_write: Callable[[], None] = lambda: None) -> None:
        """Post the status (and the comment); raises on a GitHub failure so the caller retries later.

        `before_write` runs before every GitHub write: the caller's report lease is renewed there
        (shared/jobs/reportlock.py), and raises to stop a report whose lease was taken over."""
        if not should_report(job, self.config):
            return
        refs = job.refs
        org, repo = refs.get("org", ""), refs.get("repo", "")
        if len(refs.get("pulls") or []) > 1:
            return
        status = status_for(job)
        before_write()
        try:
            gh.create_status(org, repo, status["sha"], state=status["state"], context=status["context"],
                             description=status["description"], target_url=status["target_url"] or None)
        except Exception as exc:          # noqa: BLE001 - only GitHub's final answers are swallowed
            if not _is_final_answer(exc):
                raise
            log.info("report: %s (%s) status not posted, final answer: %s", job.name, job.job, exc)
            return
        if job.type != PRESUBMIT or not job.complete or len(refs.get("pulls") or []) != 1:
            return
        if org in self.config.no_comment_repos or f"{org}/{repo}" in self.config.no_comment_repos:
            return
        number = int(refs["pulls"][0]["number"])
        jobs, summary = [job], self.config.summary_comments(org, repo)
        if summary:
            jobs = [j for j in summary_jobs(job, self.pull_jobs(org, repo, number))
                    if should_report(j, self.config) and j.complete]
            if not jobs:
                return
        deletes, entries, update_id = plan_comment(jobs, gh.list_issue_comments(org, repo, number),
                                                   _bot_checker(gh.bot_login()))
        for comment_id in deletes:
            before_write()
            gh.delete_comment(org, repo, comment_id)
        if entries or (summary and not any(j.state == ABORTED for j in jobs)):
            body = comment_body(jobs, entries, self.config.template_for(org, repo))
            before_write()
            if update_id:
                gh.edit_comment(org, repo, update_id, body)
            else:
                gh.create_comment(org, repo, number, body)
