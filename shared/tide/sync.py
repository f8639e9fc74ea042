"""One Tide sync (Prow's pkg/tide syncController + statusController, in one pass):

1. `search.fetch`: every open PR in scope and the blocker issues (GraphQL, one request per 100 PRs).
2. Per PR: mergeability checks, query match, context check → the pool, grouped by org/repo/branch.
3. Per pool: the ProwJobs of its PRs on the current base (Table `prowjobs`), classified as Prow does
   (success / pending / missing PRs, batches), then exactly one action: BLOCKED, MERGE_BATCH, MERGE,
   TRIGGER_BATCH, TRIGGER or WAIT.
4. The `tide` status of every PR in scope, written only when it differs from what GitHub shows.
5. Pools and history to Blob for the dashboard (shared/tide/state.py documents the shapes).

Deliberate differences from Prow: a new batch takes the candidates GitHub reports MERGEABLE (Prow clones
the repo and test-merges them in order); a batch that already failed for the same PRs at the same base is
not triggered again (the PRs are retested singly instead, which isolates the culprit); a PR whose merge
GitHub refused is not picked again until its head or base moves.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import quote_plus

from shared.github.errors import Conflict, GitHubError, NotMergeable
from shared.github.statuses import base_sha_from_description, is_skip_retest
from shared.jobs.create import new_presubmit, new_prowjob, presubmit_spec, pull_refs
from shared.jobs.model import BATCH, FAILURE, PENDING, PRESUBMIT, SUCCESS, TRIGGERED, ProwJob, format_time

from .config import TideConfig
from .search import Blocker, PullRequest, fetch, label_matches, matches
from .state import HISTORY_LIMIT, TideState

log = logging.getLogger("prow.tide")

STATUS_CONTEXT = "tide"
IN_POOL = "In merge pool."
NOT_IN_POOL = "Not mergeable.%s"
MAX_DESCRIPTION = 140
CREATED_BY_TIDE = "created-by-tide"
WAIT, TRIGGER, TRIGGER_BATCH, MERGE, MERGE_BATCH, BLOCKED = (
    "WAIT", "TRIGGER", "TRIGGER_BATCH", "MERGE", "MERGE_BATCH", "BLOCKED")
RECORDED = (TRIGGER, TRIGGER_BATCH, MERGE, MERGE_BATCH)
MERGE_RETRIES = 3
MERGE_BACKOFF = 4.0
BETWEEN_MERGES = 5.0


def _job_state(job: ProwJob) -> str:
    if job.state in (TRIGGERED, PENDING, "scheduling"):
        return PENDING
    return SUCCESS if job.state == SUCCESS else FAILURE


_RANK = {SUCCESS: 3, PENDING: 2}


def _best(states: dict[str, str], context: str, state: str) -> None:
    if _RANK.get(state, 1) > _RANK.get(states.get(context, ""), 0):
        states[context] = state


@dataclass
class Pool:
    org: str
    repo: str
    branch: str
    sha: str
    prs: list[PullRequest] = field(default_factory=list)
    success: list[PullRequest] = field(default_factory=list)
    pending: list[PullRequest] = field(default_factory=list)
    missing: list[PullRequest] = field(default_factory=list)
    batch_pending: list[PullRequest] = field(default_factory=list)
    action: str = WAIT
    target: list[PullRequest] = field(default_factory=list)
    blockers: list[Blocker] = field(default_factory=list)
    error: str = ""
    to_run: list = field(default_factory=list)       # TRIGGER: the required presubmits to start

    @property
    def key(self) -> str:
        return f"{self.org}/{self.repo}:{self.branch}"


def mergeability_reason(pr: PullRequest, tide: TideConfig) -> str:
    """Prow's isAllowedToMerge: the first reason the PR cannot merge at all, or ""."""
    if pr.mergeable == "CONFLICTING":
        return "PR has a merge conflict."
    method = merge_method(pr, tide)
    if method is None:
        return "PR has conflicting merge method override labels"
    if not pr.merge_allowed.get(method, True):
        return f'Merge type "{method}" disallowed by repo settings'
    if tide.raw.get("github_merge_blocks_policy") == "block" and pr.merge_state == "BLOCKED":
        return "PR is blocked from merging by GitHub (check branch protection, required reviews, or rulesets)"
    return ""


def merge_method(pr: PullRequest, tide: TideConfig) -> str | None:
    """The configured method, or an override label's; None when override labels disagree."""
    chosen = {method for label, method in tide.override_labels().items() if pr.has_label(label)}
    if len(chosen) > 1:
        return None
    return chosen.pop() if chosen else tide.merge_method(pr.org, pr.repo, pr.base_ref)


def _template(text: str, pr: PullRequest) -> str:
    """A `merge_commit_template` (Go text/template) over Prow's PR record."""
    from shared.gotemplate import parse
    fields = {"Number": pr.number, "Title": pr.title, "Body": pr.body, "AuthorLogin": pr.author,
              "HeadRefName": pr.head_ref, "HeadRefOID": pr.head_sha, "BaseRefName": pr.base_ref,
              "Org": pr.org, "Repo": pr.repo}
    return parse(text).render(fields)


class Syncer:
    """One sync over fixed inputs: the loaded config, a GitHub session, the job store and queue."""

    def __init__(self, *, config: Any, gh: Any, store: Any, queue: Any, state: TideState,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.tide = TideConfig.from_prow(config.prow.raw)
        self.gh, self.store, self.queue, self.state = gh, store, queue, state
        self.now, self.sleep = now, sleep
        self.failed = state.failed_merges()
        self.merged_now: set[str] = set()

    # -- required jobs and contexts

    def presubmits(self, pr: PullRequest) -> list:
        return self.config.jobs.presubmits_for(pr.full_repo)

    def files(self, pr: PullRequest) -> list[str]:
        if pr.files is None:
            pr.files = [f["filename"] for f in self.gh.list_pull_files(pr.org, pr.repo, pr.number)]
        return pr.files

    def required_presubmits(self, pr: PullRequest) -> list:
        """Prow: presubmits for the branch that report a required context or must run before merge, and
        that would run for this PR's changes (manual ones only when forced)."""
        found, seen = [], set()
        for job in self.presubmits(pr):
            if not (job.context_required() or job.run_before_merge):
                continue
            if job.should_run(pr.base_ref, lambda: self.files(pr), job.run_before_merge, False) \
                    and job.context not in seen:
                seen.add(job.context)
                found.append(job)
        return found

    def policy(self, pr: PullRequest):
        return self.tide.context_policy(pr.org, pr.repo, pr.base_ref, self.presubmits(pr))

    def unsuccessful_contexts(self, pr: PullRequest) -> list[str]:
        """Head contexts that keep the PR out of the pool: not success and not optional (pending ones of
        required presubmits excepted), and required contexts that are missing. `tide` is ignored."""
        policy = self.policy(pr)
        required_jobs = {job.context for job in self.required_presubmits(pr)}
        failing = []
        for ctx in pr.contexts:
            if ctx.name == STATUS_CONTEXT or ctx.state == SUCCESS or policy.is_optional(ctx.name):
                continue
            if ctx.state == PENDING and ctx.name in required_jobs:
                continue
            failing.append(ctx.name)
        present = {ctx.name for ctx in pr.contexts}
        return failing + [c for c in policy.missing_required(present) if c != STATUS_CONTEXT]

    # -- building the pools

    def scoped(self, pr: PullRequest) -> list:
        return [q for q in self.tide.queries if q.covers(pr.org, pr.repo)]

    def build(self, pulls: list[PullRequest], blockers: list[Blocker]) -> tuple[dict[str, Pool], dict[str, str]]:
        pools: dict[str, Pool] = {}
        reasons: dict[str, str] = {}
        for pr in pulls:
            if not self.scoped(pr):
                continue
            reason = mergeability_reason(pr, self.tide)
            if reason:
                reasons[pr.key] = reason
                continue
            if not any(matches(q, pr) for q in self.scoped(pr)) or self.unsuccessful_contexts(pr):
                continue
            key = f"{pr.org}/{pr.repo}:{pr.base_ref}"
            pool = pools.setdefault(key, Pool(pr.org, pr.repo, pr.base_ref, pr.base_sha))
            pool.prs.append(pr)
        for pool in pools.values():
            pool.prs.sort(key=lambda p: p.number)
            pool.blockers = self.applicable_blockers(blockers, pool.org, pool.repo, pool.branch)
        return pools, reasons

    @staticmethod
    def applicable_blockers(blockers: list[Blocker], org: str, repo: str, branch: str) -> list[Blocker]:
        found = []
        for b in blockers:
            if b.org.lower() != org.lower() or b.repo.lower() != repo.lower():
                continue
            names = b.branches()
            if not names or branch in names:
                found.append(b)
        return sorted(found, key=lambda b: b.number)

    # -- classifying

    def jobs_of(self, pool: Pool) -> dict[int, list[ProwJob]]:
        by_pr: dict[int, list[ProwJob]] = {}
        seen: dict[str, ProwJob] = {}
        for pr in pool.prs:
            for job in self.store.for_pull(pr.full_repo, pr.number):
                refs = job.refs or {}
                if refs.get("base_sha") != pool.sha or refs.get("base_ref") != pool.branch:
                    continue
                seen[job.name] = job
                by_pr.setdefault(pr.number, []).append(job)
        return by_pr

    def pr_states(self, pr: PullRequest, pool: Pool, jobs: list[ProwJob]) -> dict[str, str]:
        states: dict[str, str] = {}
        for job in jobs:
            pulls = (job.refs or {}).get("pulls") or []
            if job.type == PRESUBMIT and len(pulls) == 1 and pulls[0].get("sha") == pr.head_sha:
                _best(states, job.spec.get("context", ""), _job_state(job))
        for ctx in pr.contexts:
            if ctx.state == SUCCESS and (base_sha_from_description(ctx.description) == pool.sha
                                         or is_skip_retest(ctx.description)):
                _best(states, ctx.name, SUCCESS)
        return states

    def classify(self, pool: Pool, jobs: dict[int, list[ProwJob]]) -> tuple[dict[int, list], list[tuple], list[tuple]]:
        """Fills pool.success/pending/missing; returns the jobs to run per missing PR and the batches
        (PR list, state) valid for the pool."""
        to_run: dict[int, list] = {}
        for pr in pool.prs:
            states = self.pr_states(pr, pool, jobs.get(pr.number, []))
            required = self.required_presubmits(pr)
            absent = [job for job in required if states.get(job.context) not in (SUCCESS, PENDING)]
            if absent:
                pool.missing.append(pr)
                to_run[pr.number] = absent
            elif any(states.get(job.context) == PENDING for job in required):
                pool.pending.append(pr)
            else:
                pool.success.append(pr)
        by_number = {pr.number: pr for pr in pool.prs}
        groups: dict[tuple, list[ProwJob]] = {}
        for job in {j.name: j for js in jobs.values() for j in js}.values():
            if job.type != BATCH:
                continue
            pulls = tuple(sorted((p.get("number"), p.get("sha")) for p in (job.refs or {}).get("pulls") or []))
            groups.setdefault(pulls, []).append(job)
        batches: list[tuple] = []
        failed_batches: list[tuple] = []
        for pulls, batch_jobs in groups.items():
            if any(n not in by_number or by_number[n].head_sha != sha for n, sha in pulls):
                continue
            prs = [by_number[n] for n, _ in pulls]
            states: dict[str, str] = {}
            for job in batch_jobs:
                _best(states, job.spec.get("context", ""), _job_state(job))
            required = {job.context for pr in prs for job in self.required_presubmits(pr)}
            if all(states.get(c) == SUCCESS for c in required):
                batches.append((prs, SUCCESS))
            elif all(states.get(c) in (SUCCESS, PENDING) for c in required):
                batches.append((prs, PENDING))
            else:
                failed_batches.append((prs, FAILURE))
        return to_run, batches, failed_batches

    # -- priority

    def ordered(self, prs: list[PullRequest]) -> list[PullRequest]:
        priority = self.tide.priority

        def rank(pr: PullRequest) -> tuple[int, int]:
            for i, labels in enumerate(priority):
                if all(label_matches(pr, label) for label in labels):
                    return i, pr.number
            return len(priority), pr.number
        return sorted(prs, key=rank)

    def may_pick(self, pr: PullRequest) -> bool:
        failed = self.failed.get(pr.key)
        return failed is None or failed.head != pr.head_sha or failed.base != pr.base_sha

    # -- deciding

    def decide(self, pool: Pool, to_run: dict[int, list], batches: list[tuple], failed_batches: list[tuple]) -> None:
        if pool.blockers:
            pool.action = BLOCKED
            return
        success_batch = next((prs for prs, state in batches if state == SUCCESS), None)
        pending_batch = next((prs for prs, state in batches if state == PENDING), None)
        pool.batch_pending = pending_batch or []
        if success_batch:
            pool.action, pool.target = MERGE_BATCH, success_batch
            return
        mergeable_now = [pr for pr in self.ordered(pool.success) if self.may_pick(pr)]
        if mergeable_now and not pending_batch:
            pool.action, pool.target = MERGE, [mergeable_now[0]]
            return
        if not any(self.required_presubmits(pr) for pr in pool.prs):
            return
        if len(pool.prs) > 1 and not pending_batch and self.tide.batch_size_limit(pool.org, pool.repo) >= 0:
            batch = self.pick_batch(pool, failed_batches)
            if len(batch) > 1:
                pool.action, pool.target = TRIGGER_BATCH, batch
                return
        if pool.missing and not pool.pending and not pending_batch:
            for pr in self.ordered(pool.missing):
                if self.may_pick(pr):
                    pool.action, pool.target, pool.to_run = TRIGGER, [pr], to_run[pr.number]
                    return

    def pick_batch(self, pool: Pool, failed_batches: list[tuple]) -> list[PullRequest]:
        limit = self.tide.batch_size_limit(pool.org, pool.repo)
        candidates = [pr for pr in pool.prs if pr.mergeable == "MERGEABLE" and self.may_pick(pr)]
        batch = candidates[:limit] if limit > 0 else candidates
        failed_sets = [{(p.number, p.head_sha) for p in prs} for prs, _ in failed_batches]
        if {(p.number, p.head_sha) for p in batch} in failed_sets:
            return []
        return batch

    # -- acting

    def act(self, pool: Pool) -> None:
        if pool.action in (MERGE, MERGE_BATCH):
            self.merge(pool)
        elif pool.action == TRIGGER:
            self.trigger(pool, pool.target[0], pool.to_run)
        elif pool.action == TRIGGER_BATCH:
            self.trigger_batch(pool)

    def _launch(self, job: ProwJob) -> None:
        self.store.create(job)
        self.queue.enqueue(job.name)
        log.info("tide: %s triggered %s (%s) for %s", job.type, job.job, job.name, job.pull_numbers)

    def trigger(self, pool: Pool, pr: PullRequest, jobs: list) -> None:
        refs = pull_refs(pool.org, pool.repo, base_ref=pool.branch, base_sha=pool.sha, number=pr.number,
                         sha=pr.head_sha, author=pr.author, head_ref=pr.head_ref, title=pr.title)
        for job in jobs:
            self._launch(new_presubmit(job, refs, extra_labels={CREATED_BY_TIDE: "true"},
                                       namespace=self.config.prow.prowjob_namespace))

    def trigger_batch(self, pool: Pool) -> None:
        first = pool.target[0]
        refs = pull_refs(pool.org, pool.repo, base_ref=pool.branch, base_sha=pool.sha, number=first.number,
                         sha=first.head_sha, author=first.author, head_ref=first.head_ref, title=first.title)
        refs["pulls"] = [pull_refs(pool.org, pool.repo, base_ref=pool.branch, base_sha=pool.sha, number=pr.number,
                                   sha=pr.head_sha, author=pr.author, head_ref=pr.head_ref,
                                   title=pr.title)["pulls"][0] for pr in pool.target]
        jobs = {job.context: job for pr in pool.target for job in self.required_presubmits(pr)}
        for job in jobs.values():
            spec = presubmit_spec(job, refs, batch=True)
            self._launch(new_prowjob(spec, {**job.labels, CREATED_BY_TIDE: "true"}, dict(job.annotations),
                                     namespace=self.config.prow.prowjob_namespace))

    def merge(self, pool: Pool) -> None:
        errors, merged = [], []
        for i, pr in enumerate(sorted(pool.target, key=lambda p: p.number)):
            self.state.renew(now=self.now())
            current = next((c for c in pr.contexts if c.name == STATUS_CONTEXT), None)
            if current is None or current.state != SUCCESS:
                self.gh.create_status(pr.org, pr.repo, pr.head_sha, state=SUCCESS, context=STATUS_CONTEXT,
                                      description=IN_POOL, target_url=self.target_url(pr) or None)
            self.merged_now.add(pr.key)
            go_on, error = self.try_merge(pr)
            if error:
                errors.append(f"#{pr.number}: {error}")
                self.state.remember_failed(pr.key, pr.head_sha, pr.base_sha, error)
            else:
                merged.append(pr.number)
                self.state.forget_failed(pr.key)
                if i + 1 < len(pool.target):
                    self.sleep(BETWEEN_MERGES)
            if not go_on:
                break
        if errors:
            failed = [int(e.split(":")[0][1:]) for e in errors]
            batch = ""
            if len(pool.target) > 1:
                batch = f" from batch {[p.number for p in pool.target]}"
                if merged:
                    batch += f", partial merge {merged}"
            pool.error = f"failed merging {failed}{batch}: {'; '.join(errors)}"

    def try_merge(self, pr: PullRequest) -> tuple[bool, str]:
        """(merge the rest of a batch?, error text) with Prow's handling of GitHub's refusals."""
        method = merge_method(pr, self.tide) or "merge"
        template = self.tide.merge_commit_template(pr.org, pr.repo)
        title = _template(template["title"], pr) if template.get("title") else None
        body = _template(template["body"], pr) if template.get("body") else None
        backoff, error = MERGE_BACKOFF, ""
        for attempt in range(MERGE_RETRIES):
            try:
                self.gh.merge_pull(pr.org, pr.repo, pr.number, merge_method=method, sha=pr.head_sha,
                                   commit_title=title, commit_message=body)
                log.info("tide: merged %s (%s)", pr.key, method)
                return True, ""
            except Conflict as exc:
                return True, f"PR was modified: {exc.message}"
            except NotMergeable as exc:
                message = exc.message
                if "Base branch was modified" in message:
                    error = f"base branch was modified: {message}"
                    if attempt + 1 < MERGE_RETRIES:
                        self.sleep(backoff)
                        backoff *= 2
                    continue
                if "not authorized to push" in message:
                    return False, f"branch needs to be configured to allow this robot to push: {message}"
                if "Merge commits are not allowed" in message:
                    return False, ("Tide needs to be configured to use the 'rebase' merge method for this repo "
                                   f"or the repo needs to allow merge commits: {message}")
                return True, ("PR is unmergable. Do the Tide merge requirements match the GitHub settings for the "
                              f"repo? {message}")
            except GitHubError as exc:
                return True, str(exc)
        return True, error

    # -- the tide status

    def target_url(self, pr: PullRequest) -> str:
        url = self.tide.target_url(pr.org, pr.repo)
        if url:
            return url
        base = self.tide.pr_status_base_url(pr.org, pr.repo)
        if base:
            return base + "?query=" + quote_plus(f"is:pr repo:{pr.org}/{pr.repo} author:{pr.author} "
                                                 f"head:{pr.head_ref}")
        return ""

    def requirement_diff(self, pr: PullRequest, query) -> tuple[str, int]:
        """Prow's requirementDiff: the first gap to this query and its weight."""
        desc, diff = "", 0

        def cut(items: list[str]) -> list[str]:
            chars, i = len(items[0]), 1
            while i < len(items) and chars + len(items[i]) <= 50:
                chars += len(items[i]) + 2
                i += 1
            return items[:i]

        if (pr.base_ref in query.excluded_branches
                or (query.included_branches and pr.base_ref not in query.included_branches)):
            diff += 2000
            desc = desc or f" Merging to branch {pr.base_ref} is forbidden."
        if query.author and pr.author.lower() != query.author.lower():
            diff += 1000
            desc = desc or f" Must be by author {query.author}."
        if query.milestone and pr.milestone != query.milestone:
            diff += 100
            desc = desc or f" Must be in milestone {query.milestone}."
        missing = [label.replace(",", " or ") for label in query.labels if not label_matches(pr, label)]
        diff += len(missing)
        if not desc and missing:
            shown = cut(sorted(missing))
            desc = f" Needs {shown[0]} label." if len(shown) == 1 else f" Needs {', '.join(shown)} labels."
        present = [label for label in query.missing_labels if pr.has_label(label)]
        diff += len(present)
        if not desc and present:
            shown = cut(sorted(present))
            desc = (f" Should not have {shown[0]} label." if len(shown) == 1
                    else f" Should not have {', '.join(shown)} labels.")
        contexts = self.unsuccessful_contexts(pr)
        diff += len(contexts)
        if not desc and contexts:
            shown = cut(sorted(contexts))
            desc = f" Job {shown[0]} has not succeeded." if len(shown) == 1 else \
                f" Jobs {', '.join(shown)} have not succeeded."
        if query.review_approved_required and pr.review_decision != "APPROVED":
            diff += 50
            desc = desc or " PullRequest is missing sufficient approving GitHub review(s)"
        if pr.merge_state == "BLOCKED":
            diff += 100
            desc = desc or " Blocked by GitHub (branch rulesets or protection)"
        return desc, diff

    def expected_status(self, pr: PullRequest, pools: dict[str, Pool], reasons: dict[str, str],
                        blockers: list[Blocker]) -> tuple[str, str]:
        if pr.key in reasons:
            return "error", NOT_IN_POOL % (" " + reasons[pr.key])
        pool = pools.get(f"{pr.org}/{pr.repo}:{pr.base_ref}")
        if pool is None or pr not in pool.prs:
            numbers = [str(b.number) for b in self.applicable_blockers(blockers, pr.org, pr.repo, pr.base_ref)]
            if numbers:
                return "error", NOT_IN_POOL % (f" Merging is blocked by issue{'s' if len(numbers) > 1 else ''} "
                                               f"{', '.join(numbers)}.")
            best, best_diff, texts = "", -1, []
            for query in self.scoped(pr):
                desc, diff = self.requirement_diff(pr, query)
                if diff == 0:
                    break
                if self.tide.display_all_queries:
                    if diff < 2000:
                        texts.append(desc)
                elif best_diff == -1 or diff < best_diff:
                    best, best_diff = desc, diff
            else:
                if self.tide.display_all_queries:
                    best = ""
                    for desc in texts:
                        best = (best.rstrip(".") + " OR" if best else "") + desc
                    best = best or f" No Tide query for branch {pr.base_ref} found."
                return "pending", NOT_IN_POOL % best
        if pool is not None and pr in pool.prs and pr not in pool.success:
            states = self.pr_states(pr, pool, self._jobs.get(pool.key, {}).get(pr.number, []))
            missing = sorted(job.context for job in self.required_presubmits(pr) if states.get(job.context) != SUCCESS)
            if missing:
                text = NOT_IN_POOL % f" Retesting: {' '.join(missing)}"
                if len(text) > MAX_DESCRIPTION:
                    text = NOT_IN_POOL % f" Retesting {len(missing)} job{'s' if len(missing) > 1 else ''}."
                return "pending", text
        if pr.merge_state == "BLOCKED" and self.tide.raw.get("github_merge_blocks_policy", "permit") == "permit":
            return "success", "In merge pool (despite BLOCKED)."
        return "success", IN_POOL

    def update_statuses(self, pulls: list[PullRequest], pools: dict[str, Pool], reasons: dict[str, str],
                        blockers: list[Blocker]) -> int:
        written = 0
        for pr in pulls:
            if not self.scoped(pr) or pr.key in self.merged_now:
                continue
            state, description = self.expected_status(pr, pools, reasons, blockers)
            if len(description) > MAX_DESCRIPTION:
                description = description[:MAX_DESCRIPTION - 3] + "..."
            current = next((c for c in pr.contexts if c.name == STATUS_CONTEXT), None)
            if current is not None and current.state == state and current.description == description:
                continue
            try:
                self.gh.create_status(pr.org, pr.repo, pr.head_sha, state=state, context=STATUS_CONTEXT,
                                      description=description, target_url=self.target_url(pr) or None)
                written += 1
            except GitHubError as exc:
                log.warning("tide: could not set the tide status of %s: %s (next sync retries)", pr.key, exc)
        return written

    # -- the whole sync

    def run(self) -> dict[str, Pool]:
        pulls, blockers = fetch(self.gh, self.tide)
        for key, failed in list(self.failed.items()):
            if not any(pr.key == key and pr.head_sha == failed.head and pr.base_sha == failed.base for pr in pulls):
                self.state.forget_failed(key)
        pools, reasons = self.build(pulls, blockers)
        self._jobs: dict[str, dict[int, list[ProwJob]]] = {}
        history = self.state.load_history()
        for key in sorted(pools):
            pool = pools[key]
            self._jobs[key] = jobs = self.jobs_of(pool)
            to_run, batches, failed_batches = self.classify(pool, jobs)
            self.decide(pool, to_run, batches, failed_batches)
            if pool.action != WAIT and pool.action != BLOCKED:
                self.state.renew(now=self.now())
                try:
                    self.act(pool)
                except GitHubError as exc:
                    pool.error = str(exc)
            if pool.action in RECORDED:
                self.record(history, pool)
        self.update_statuses(pulls, pools, reasons, blockers)
        self.state.publish(self.pools_doc(pools), history)
        return pools

    def record(self, history: dict[str, list[dict]], pool: Pool) -> None:
        entry = {"time": format_time(self.now()), "action": pool.action, "baseSHA": pool.sha,
                 "target": [{"number": pr.number, "author": pr.author, "sha": pr.head_sha, "title": pr.title,
                             "head_ref": pr.head_ref} for pr in pool.target],
                 "err": pool.error, "tenantids": [""]}
        if not entry["err"]:
            del entry["err"]
        history[pool.key] = [entry, *history.get(pool.key, [])][:HISTORY_LIMIT]

    def pools_doc(self, pools: dict[str, Pool]) -> dict[str, Any]:
        def trim(prs: list[PullRequest]) -> list[dict]:
            return [{"Title": pr.title, "Number": pr.number, "HeadRefOID": pr.head_sha, "Mergeable": pr.mergeable}
                    for pr in sorted(prs, key=lambda p: p.number)]
        return {
            "Queries": [q.search_string() for q in self.tide.queries],
            "TideQueries": [q.to_json() for q in self.tide.queries],
            "Pools": [{"Org": p.org, "Repo": p.repo, "Branch": p.branch, "SuccessPRs": trim(p.success),
                       "PendingPRs": trim(p.pending), "MissingPRs": trim(p.missing),
                       "BatchPending": trim(p.batch_pending), "Action": p.action, "Target": trim(p.target),
                       "Blockers": [{"Number": b.number, "Title": b.title, "URL": b.url} for b in p.blockers],
                       "Error": p.error, "TenantIDs": [""]}
                      for p in (pools[k] for k in sorted(pools))],
            "Updated": format_time(self.now()),
        }


def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def run_tide(*, config: Any = None, gh_client: Any = None, clients: Any = None, owner: str = "",
             now: Callable[[], datetime] | None = None, sleep: Callable[[float], None] | None = None) -> dict | None:
    """The `tide` timer's core: take the lease, sync, release. None when another run holds the lease."""
    import uuid
    from shared.config import get_config
    from shared.github.client import default_client
    from shared.jobs.queue import JobQueue
    from shared.jobs.store import JobStore
    from shared.storage import default_clients
    now = now or (lambda: datetime.now(timezone.utc))
    clients = clients or default_clients()
    state = TideState(clients)
    if not state.acquire(owner or str(uuid.uuid4()), now=now()):
        return None
    try:
        config = config or get_config()
        with (gh_client or default_client()).for_event(f"tide-{uuid.uuid4()}") as gh:
            syncer = Syncer(config=config, gh=gh, store=JobStore(clients), queue=JobQueue(clients), state=state,
                            now=now, sleep=sleep or _sleep)
            pools = syncer.run()
            return {"pools": {k: p.action for k, p in pools.items()}, "requests": gh.request_count}
    finally:
        state.release()
