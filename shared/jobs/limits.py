"""Concurrency slots: plank's global `max_concurrency`, a job's `max_concurrency` and
`plank.job_queue_capacities`, kept in Table `prowjobs` so that every launcher instance sees them.

Each limit is one entity in partition `limits` (RowKey `global`, `job|<name>`, `queue|<name>`) whose
`Holders` lists the ids of the jobs admitted under it. Admitting a job adds its id to every limit
that applies, all in one entity-group transaction with each entity's ETag (If-Match), so of two
launchers racing for the last slot exactly one gets it, and a job is admitted under all its limits or
none. A holder leaves when its job is complete: nobody has to remember to release a slot; when a
limit looks full, the holders' records are read and the complete (or vanished) ones are dropped.

Prow admits the oldest triggered job first; here a freed slot goes to the first launcher that asks
(waiting jobs come back on their own schedule), so waiting jobs are not strictly FIFO.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Mapping

from .model import ProwJob
from .store import LIMITS, JobStore, _etag, join_text, key, split_text

log = logging.getLogger("prow.jobs")


@dataclass(frozen=True)
class Limit:
    row: str           # RowKey in partition `limits`
    capacity: int      # > 0 (unlimited limits are not listed)
    what: str          # for messages: "plank.max_concurrency", "max_concurrency of job x", ...


class QueueUndefined(ValueError):
    pass


def limits_for(job: ProwJob, plank: Mapping[str, Any] | None) -> list[Limit]:
    """The limits that apply to a job (capacity 0 for a queue means it never runs)."""
    plank = plank if isinstance(plank, Mapping) else {}
    limits = []
    global_limit = plank.get("max_concurrency") or 0
    if isinstance(global_limit, int) and global_limit > 0:
        limits.append(Limit("global", global_limit, f"plank.max_concurrency ({global_limit})"))
    job_limit = job.spec.get("max_concurrency") or 0
    if isinstance(job_limit, int) and job_limit > 0:
        limits.append(Limit(f"job|{key(job.job)}", job_limit, f"max_concurrency of {job.job} ({job_limit})"))
    queue = job.spec.get("job_queue_name") or ""
    if queue:
        capacities = plank.get("job_queue_capacities") or {}
        if not isinstance(capacities, Mapping) or queue not in capacities:
            raise QueueUndefined(f"job queue {queue!r} is not defined in plank.job_queue_capacities")
        capacity = capacities[queue]
        if isinstance(capacity, int) and capacity >= 0:
            limits.append(Limit(f"queue|{key(queue)}", capacity, f"job queue {queue} ({capacity})"))
    return limits


@dataclass(frozen=True)
class Admission:
    admitted: bool
    full: Limit | None = None

    @property
    def reason(self) -> str:
        return f"{self.full.what} is reached" if self.full else ""


class ConcurrencySlots:
    def __init__(self, store: JobStore):
        self.store = store

    def _read(self, limit: Limit) -> tuple[list[str], str | None]:
        from azure.core.exceptions import ResourceNotFoundError
        try:
            entity = self.store.table().get_entity(LIMITS, limit.row)
        except ResourceNotFoundError:
            return [], None
        return json.loads(join_text("Holders", entity) or "[]"), _etag(entity)

    def _live(self, holders: list[str]) -> list[str]:
        live = []
        for job_id in holders:
            job = self.store.find(job_id)
            if job is not None and not job.complete:
                live.append(job_id)
        return live

    def holders(self, limit: Limit) -> list[str]:
        return self._read(limit)[0]

    def admit(self, job: ProwJob, limits: list[Limit], *, attempts: int = 8) -> Admission:
        """Take a slot under every limit for `job`, or none (idempotent for a job already admitted)."""
        from azure.core import MatchConditions
        from azure.data.tables import TableTransactionError, UpdateMode
        if not limits:
            return Admission(True)
        for _ in range(attempts):
            operations = []
            for limit in limits:
                holders, etag = self._read(limit)
                if job.name in holders:
                    continue
                if len(holders) >= limit.capacity:
                    holders = self._live(holders)
                    if len(holders) >= limit.capacity:
                        return Admission(False, limit)
                entity = {"PartitionKey": LIMITS, "RowKey": limit.row, "Capacity": limit.capacity,
                          **split_text("Holders", json.dumps(holders + [job.name]))}
                if etag is None:
                    operations.append(("create", entity))
                else:
                    operations.append(("update", entity, {"mode": UpdateMode.REPLACE, "etag": etag,
                                                          "match_condition": MatchConditions.IfNotModified}))
            if not operations:
                return Admission(True)
            try:
                self.store._write(lambda: self.store.table().submit_transaction(operations))
                return Admission(True)
            except TableTransactionError as exc:     # another launcher changed a limit first: look again
                log.info("limits: %s for %s; retrying", getattr(exc, "error_code", exc), job.name)
        raise RuntimeError(f"could not admit {job.name}: limits kept changing")
