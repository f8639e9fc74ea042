"""Status-reconciler: when the job config changes, bring open PRs in line (Prow's `cmd/status-reconciler`,
`pkg/statusreconciler`).

Each tick compares the presubmits of the served config with the last config it reconciled (a snapshot
of what the comparison needs, stored in Table `statusreconciler`). On a change, for the repositories
that were in the old config, as Prow's controller:

- added blocking presubmits (a new presubmit whose context is required and that runs without being
  asked, or one that started reporting, or whose `run_if_changed` / `skip_if_only_changed` changed)
  are started on every open PR that GitHub does not call unmergeable, whose base branch and changed
  files they would run on, when the PR is trusted as trigger trusts it (`trusted_pull_request`, the
  job selection `filter_presubmits`, and trigger's `run_requested`);
- the contexts of removed presubmits are retired on every open PR whose head has them and whose base
  branch the old job ran on: state `error`, "Context retired without replacement.";
- a required presubmit whose context was renamed has its old context copied to the new one (when the
  PR has the old one and not the new one) and the old one retired: "Context retired. Status moved to
  "<new>".".

A config with errors is not acted on, nor one in which every presubmit disappeared (as Prow refuses),
nor one that would retire more than `PROW_STATUS_RECONCILER_MAX_RETIRE_SHARE` (default 0.5) of all
old contexts: each is logged (once per config) and the snapshot is kept, so a fixed config is
compared with the last good one.

Progress is stored per PR (partition `progress`, one row per PR done for the target config), so a
run cut short resumes where it stopped, and at most `max_pulls` PRs are handled per run. Jobs started
for a PR get ids from the PR, its head commit and the job name, and a context is only retired when
it is not already, so work redone after a crash, or for a config that changed again meanwhile, does
nothing twice. When every PR is done the new snapshot replaces the old one.

Deliberate differences: Prow labels the jobs it starts here with event GUID `none`; ours carry
`status-reconciler:<org>/<repo>#<n>:<sha>` (what makes their ids stable). Prow's denylist flags
(`--denylist`, `--denylist-all`) are not implemented.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from shared.config.jobs import Brancher, Presubmit
from shared.config.regex import compile_re2
from shared.jobs.store import join_text, key, split_text
from shared.storage import STATUS_RECONCILER_TABLE

log = logging.getLogger("prow.status_reconciler")

MAX_RETIRE_SHARE_SETTING = "PROW_STATUS_RECONCILER_MAX_RETIRE_SHARE"
DEFAULT_MAX_RETIRE_SHARE = 0.5
MAX_PULLS_PER_RUN = 300
STATE, PROGRESS, RECONCILED = "state", "progress", "reconciled"
RETIRED = "Context retired without replacement."


def moved_description(new_context: str) -> str:
    return f'Context retired. Status moved to "{new_context}".'


def _entry(job: Presubmit) -> dict[str, Any]:
    return {"name": job.name, "context": job.context, "optional": job.optional, "skip_report": job.skip_report,
            "always_run": job.always_run, "run_if_changed": job.run_if_changed,
            "skip_if_only_changed": job.skip_if_only_changed, "branches": list(job.branches),
            "skip_branches": list(job.skip_branches)}


def snapshot(jobs: Any) -> dict[str, list[dict[str, Any]]]:
    """What the comparison needs of each repository's presubmits."""
    return {repo: [_entry(job) for job in presubmits] for repo, presubmits in sorted(jobs.presubmits.items())}


def digest(snap: dict) -> str:
    return hashlib.sha256(json.dumps(snap, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _required(entry: dict) -> bool:
    return not entry["optional"] and not entry["skip_report"]


def _brancher(entry: dict) -> Brancher:
    brancher = Brancher(tuple(entry["branches"]), tuple(entry["skip_branches"]))
    if brancher.branches:
        brancher.branch_re = compile_re2("|".join(brancher.branches))
    if brancher.skip_branches:
        brancher.skip_re = compile_re2("|".join(brancher.skip_branches))
    return brancher


@dataclass
class Delta:
    added: dict[str, list[Presubmit]] = field(default_factory=dict)
    removed: dict[str, list[dict]] = field(default_factory=dict)
    migrated: dict[str, list[tuple[dict, Presubmit]]] = field(default_factory=dict)

    def repos(self) -> list[str]:
        return sorted({repo for part in (self.added, self.removed, self.migrated)
                       for repo, items in part.items() if items})

    def retired(self) -> int:
        return sum(len(v) for v in self.removed.values()) + sum(len(v) for v in self.migrated.values())


def delta(before: dict[str, list[dict]], jobs: Any) -> Delta:
    """Prow's addedBlockingPresubmits, removedPresubmits and migratedBlockingPresubmits."""
    result = Delta()
    for repo, old_entries in before.items():
        old = {entry["name"]: entry for entry in old_entries}
        current = jobs.presubmits_for(repo)
        names = {job.name for job in current}
        added = []
        for job in current:
            previous = old.get(job.name)
            if job.context_required() and not job.needs_explicit_trigger():
                if previous is None:
                    added.append(job)
                else:
                    if previous["skip_report"] and not job.skip_report:
                        added.append(job)
                    if (previous["run_if_changed"] != job.run_if_changed
                            or previous["skip_if_only_changed"] != job.skip_if_only_changed):
                        added.append(job)
            if job.context_required() and previous is not None and previous["context"] != job.context:
                result.migrated.setdefault(repo, []).append((previous, job))
        if added:
            result.added[repo] = list({id(job): job for job in added}.values())
        removed = [entry for entry in old_entries if entry["name"] not in names]
        if removed:
            result.removed[repo] = removed
    return result


@dataclass
class ReconcileResult:
    outcome: str = "unchanged"     # unchanged | first | refused | partial | done
    started: list[str] = field(default_factory=list)
    retired: list[tuple[str, int, str]] = field(default_factory=list)     # (repo, PR, context)
    migrated: list[tuple[str, int, str, str]] = field(default_factory=list)
    pulls_done: int = 0
    detail: str = ""


class StateTable:
    """Table `statusreconciler`: the reconciled snapshot and the per-PR progress toward a new one."""

    def __init__(self, clients: Any, *, table: str = STATUS_RECONCILER_TABLE):
        self.clients = clients
        self.table_name = table
        self._table = None

    def table(self):
        if self._table is None:
            self._table = self.clients.table().get_table_client(self.table_name)
        return self._table

    def _write(self, op):
        return self.clients.write_creating_table(self.table_name, op)

    def get(self, row: str) -> dict | None:
        from azure.core.exceptions import ResourceNotFoundError
        try:
            return dict(self.table().get_entity(STATE, row))
        except ResourceNotFoundError:
            return None

    def put(self, row: str, **values: Any) -> None:
        from azure.data.tables import UpdateMode
        self._write(lambda: self.table().upsert_entity({"PartitionKey": STATE, "RowKey": row, **values},
                                                       mode=UpdateMode.REPLACE))

    def reconciled(self) -> tuple[str, dict] | None:
        entity = self.get(RECONCILED)
        if entity is None:
            return None
        return entity.get("Digest", ""), json.loads(join_text("Snapshot", entity) or "{}")

    def save_reconciled(self, snap: dict) -> None:
        self.put(RECONCILED, Digest=digest(snap),
                 **split_text("Snapshot", json.dumps(snap, sort_keys=True, separators=(",", ":"))))

    def progress(self) -> list[dict]:
        from azure.core.exceptions import ResourceNotFoundError
        try:
            return [dict(e) for e in self.table().query_entities("PartitionKey eq @pk", parameters={"pk": PROGRESS})]
        except ResourceNotFoundError:
            return []

    def mark_done(self, target: str, repo: str, number: int) -> None:
        from azure.data.tables import UpdateMode
        self._write(lambda: self.table().upsert_entity(
            {"PartitionKey": PROGRESS, "RowKey": _progress_key(target, repo, number)}, mode=UpdateMode.REPLACE))

    def clear_progress(self, rows: Iterable[dict]) -> None:
        from azure.core.exceptions import ResourceNotFoundError
        for row in rows:
            try:
                self.table().delete_entity(PROGRESS, row["RowKey"])
            except ResourceNotFoundError:
                pass


def _progress_key(target: str, repo: str, number: int) -> str:
    return key(f"{target}|{repo}|{number}")


def max_retire_share(env: Any = None) -> float:
    raw = (env if env is not None else os.environ).get(MAX_RETIRE_SHARE_SETTING, "").strip()
    if not raw:
        return DEFAULT_MAX_RETIRE_SHARE
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{MAX_RETIRE_SHARE_SETTING} must be a number between 0 and 1, not {raw!r}") from None
    if not 0 <= value <= 1:
        raise ValueError(f"{MAX_RETIRE_SHARE_SETTING} must be between 0 and 1, not {raw!r}")
    return value


class StatusReconciler:
    def __init__(self, *, state: StateTable, github: Any, config: Callable[[], Any],
                 start: Callable[[Any, Any, list[Presubmit], str], None] | None = None,
                 max_share: float = DEFAULT_MAX_RETIRE_SHARE, max_pulls: int = MAX_PULLS_PER_RUN):
        self.state = state
        self.gh = github
        self.config = config
        self.start = start or _start_with_trigger
        self.max_share = max_share
        self.max_pulls = max_pulls

    def run(self) -> ReconcileResult:
        loaded = self.config()
        result = ReconcileResult()
        if not loaded.ok:
            result.outcome, result.detail = "refused", "the job config has errors"
            log.error("status-reconciler: not acting on a config with errors: %s", [str(e) for e in loaded.errors][:5])
            return result
        current = snapshot(loaded.jobs)
        target = digest(current)
        stored = self.state.reconciled()
        if stored is None:
            self.state.save_reconciled(current)
            result.outcome = "first"
            log.info("status-reconciler: no reconciled config yet; remembering this one (%s)", target[:12])
            return result
        before_digest, before = stored
        if before_digest == target:
            return result
        change = delta(before, loaded.jobs)
        refusal = self._refusal(before, current, change)
        if refusal:
            result.outcome, result.detail = "refused", refusal
            refused = self.state.get("refused")
            if refused is None or refused.get("Digest") != target:
                log.error("status-reconciler: not acting on config %s: %s", target[:12], refusal)
                self.state.put("refused", Digest=target, Reason=refusal)
            return result
        log.info("status-reconciler: config %s -> %s: %d added, %d removed, %d migrated presubmits in %s",
                 before_digest[:12], target[:12], sum(len(v) for v in change.added.values()),
                 sum(len(v) for v in change.removed.values()), sum(len(v) for v in change.migrated.values()),
                 change.repos())
        progress = self.state.progress()
        done = {row["RowKey"] for row in progress}
        for repo in change.repos():
            org, _, name = repo.partition("/")
            for pr in self.gh.list_open_pulls(org, name):
                key = _progress_key(target, repo, pr["number"])
                if key in done:
                    continue
                if result.pulls_done >= self.max_pulls:
                    result.outcome = "partial"
                    log.info("status-reconciler: %d PRs done this run; the rest waits for the next", result.pulls_done)
                    return result
                self._pull(loaded, repo, pr, change, result)
                self.state.mark_done(target, repo, pr["number"])
                result.pulls_done += 1
        self.state.save_reconciled(current)
        self.state.clear_progress(self.state.progress())
        result.outcome = "done"
        log.info("status-reconciler: reconciled config %s: %d jobs started, %d contexts retired, %d migrated "
                 "on %d PRs", target[:12], len(result.started), len(result.retired), len(result.migrated),
                 result.pulls_done)
        return result

    def _refusal(self, before: dict, current: dict, change: Delta) -> str:
        old_total = sum(len(v) for v in before.values())
        if old_total and not sum(len(v) for v in current.values()):
            return "refusing to reconcile config update because all presubmits disappeared"
        if old_total and change.retired() / old_total > self.max_share:
            return (f"it would retire {change.retired()} of {old_total} contexts, more than "
                    f"{MAX_RETIRE_SHARE_SETTING}={self.max_share}")
        return ""

    def _pull(self, loaded: Any, repo: str, pr: dict, change: Delta, result: ReconcileResult) -> None:
        org, _, name = repo.partition("/")
        number, head, base = pr["number"], pr["head"]["sha"], pr["base"]["ref"]
        added = change.added.get(repo) or []
        if added and pr.get("mergeable") is not False:
            from shared.jobs.selection import ChangedFiles, filter_presubmits
            changes = ChangedFiles.for_pull(self.gh, org, name, number)
            to_run = filter_presubmits(added, lambda job: (True, False, False), branch=base, changes=changes)
            if to_run:
                started = self.start(loaded, self.gh, to_run, repo, pr) or []
                result.started.extend(started)
        removed = change.removed.get(repo) or []
        migrated = change.migrated.get(repo) or []
        if not removed and not migrated:
            return
        statuses = {s.get("context"): s for s in self.gh.get_combined_status(org, name, head).get("statuses") or []}
        for entry in removed:
            if not _brancher(entry).should_run(base):
                continue
            if self._retire(org, name, head, entry["context"], RETIRED, statuses):
                result.retired.append((repo, number, entry["context"]))
        for old, new in migrated:
            if not _brancher(old).should_run(base) or old["context"] not in statuses or new.context in statuses:
                continue
            source = statuses[old["context"]]
            self.gh.create_status(org, name, head, state=source.get("state", "pending"), context=new.context,
                                  description=source.get("description") or "", target_url=source.get("target_url"))
            self._retire(org, name, head, old["context"], moved_description(new.context), statuses)
            result.migrated.append((repo, number, old["context"], new.context))

    def _retire(self, org: str, repo: str, sha: str, context: str, description: str, statuses: dict) -> bool:
        status = statuses.get(context)
        if status is None or (status.get("state") == "error" and status.get("description") == description):
            return False
        self.gh.create_status(org, repo, sha, state="error", context=context, description=description)
        return True


def _start_with_trigger(loaded: Any, gh: Any, jobs: list[Presubmit], repo: str, pr: dict) -> list[str]:
    """Trigger's trust rule and job start for one PR (ids stable per PR head and job name)."""
    from shared.plugins.registry import PluginContext
    from shared.plugins.trigger import Pull, run_requested, trusted_pull_request
    org, _, name = repo.partition("/")
    pull = Pull.of_api(org, name, pr)
    delivery = f"status-reconciler:{repo}#{pull.number}:{pull.head_sha}"
    ctx = PluginContext(plugin="status-reconciler", delivery_id=delivery, github=gh, config=loaded,
                        log=logging.LoggerAdapter(log, {"repo": repo, "pr": pull.number}))
    _, trusted = trusted_pull_request(ctx, pull.author, org, name, pull.number)
    if not trusted:
        log.info("status-reconciler: %s#%d is not trusted; not starting %s", repo, pull.number, [j.name for j in jobs])
        return []
    log.info("status-reconciler: starting %s on %s#%d for newly required contexts", [j.name for j in jobs], repo,
             pull.number)
    run_requested(ctx, pull, jobs)
    return [f"{repo}#{pull.number}:{job.name}" for job in jobs if job.agent == "kubernetes"]


def run_status_reconciler() -> ReconcileResult:
    import uuid
    from shared.config.source import get_config
    from shared.github.client import default_client
    from shared.storage import default_clients
    with default_client().for_event(f"status-reconciler-{uuid.uuid4()}") as gh:
        reconciler = StatusReconciler(state=StateTable(default_clients()), github=gh, config=get_config,
                                      max_share=max_retire_share())
        return reconciler.run()
