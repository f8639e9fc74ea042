"""The deliveries ledger: one Table entity per webhook delivery, so each delivery's plugins run once.

Table `deliveries`, PartitionKey = the delivery's blob name (the X-GitHub-Delivery GUID, or a hash
for an unusual id), RowKey = "delivery". Properties:

    State           "running" (claimed by Owner until LeaseUntil), "retry" (an attempt ended with work
                    left: failed, or deferred by a rate limit), "done" (finished; a redelivery is ignored)
    Owner           the invocation holding the claim;  LeaseUntil  when that claim lapses
    Attempts        how many invocations claimed it
    Units           JSON list of the plugin handlers that completed ("plugin:event", e.g. "help:GenericCommentEvent")
    Steps           JSON {unit: [step, ...]}: non-repeatable effects (comments) done by unfinished units
    Forwarded       JSON list of external plugins the delivery was forwarded to (or given up on)
    Failures        JSON {unit: error} of the last attempt;  Outcome  a one-line summary
    GitHubRequests  GitHub requests made for this delivery, over all attempts
    DeliveryId, Event, Repo, FirstSeen, FinishedAt

Claiming: the first attempt inserts the entity (insert-if-absent: of two racing inserts one wins). A
later message for the same delivery reads it: "done" → nothing to do; "running" with a live lease →
someone else is on it, come back when the lease lapses; "running" with a lapsed lease (a crashed
worker) or "retry" → take it over with an ETag-conditional update (of two racing takeovers one wins).
Every later write is ETag-conditional too, so a worker that lost its claim cannot overwrite the new
owner's record (`LostClaim`).
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from shared.deliveries import blob_name
from shared.storage import DELIVERIES_TABLE, StorageClients

log = logging.getLogger("prow.dispatch")

ROW_KEY = "delivery"
RUNNING, RETRY, DONE = "running", "retry", "done"
# An invocation cannot outlive host.json's functionTimeout (10 minutes); a claim older than that
# belongs to a worker that died.
DEFAULT_LEASE_SECONDS = 600
_MAX_TEXT = 30_000  # Table string properties hold 32K UTF-16 characters


class LostClaim(Exception):
    """Another invocation took the delivery over (this one's lease had lapsed)."""


@dataclass
class DeliveryRecord:
    delivery_id: str
    key: str
    state: str = RUNNING
    owner: str = ""
    lease_until: float = 0.0
    attempts: int = 0
    event: str = ""
    repo: str = ""
    units: set[str] = field(default_factory=set)
    steps: dict[str, list[str]] = field(default_factory=dict)
    forwarded: set[str] = field(default_factory=set)
    failures: dict[str, str] = field(default_factory=dict)
    outcome: str = ""
    github_requests: int = 0
    first_seen: float = 0.0
    finished_at: float | None = None
    etag: str | None = None

    def to_entity(self) -> dict[str, Any]:
        entity: dict[str, Any] = {
            "PartitionKey": self.key, "RowKey": ROW_KEY, "DeliveryId": self.delivery_id[:1024],
            "State": self.state, "Owner": self.owner, "LeaseUntil": _dt(self.lease_until),
            "Attempts": self.attempts, "Event": self.event, "Repo": self.repo,
            "Units": _text(sorted(self.units)), "Steps": _text(self.steps), "Forwarded": _text(sorted(self.forwarded)),
            "Failures": _text(self.failures), "Outcome": self.outcome[:_MAX_TEXT],
            "GitHubRequests": self.github_requests, "FirstSeen": _dt(self.first_seen),
        }
        if self.finished_at is not None:
            entity["FinishedAt"] = _dt(self.finished_at)
        return entity

    @classmethod
    def from_entity(cls, entity: Any) -> "DeliveryRecord":
        return cls(delivery_id=entity.get("DeliveryId", ""), key=entity["PartitionKey"],
                   state=entity.get("State", RETRY), owner=entity.get("Owner", ""),
                   lease_until=_ts(entity.get("LeaseUntil")), attempts=int(entity.get("Attempts") or 0),
                   event=entity.get("Event", ""), repo=entity.get("Repo", ""),
                   units=set(_json(entity.get("Units"), [])), steps=_json(entity.get("Steps"), {}),
                   forwarded=set(_json(entity.get("Forwarded"), [])), failures=_json(entity.get("Failures"), {}),
                   outcome=entity.get("Outcome", ""), github_requests=int(entity.get("GitHubRequests") or 0),
                   first_seen=_ts(entity.get("FirstSeen")),
                   finished_at=_ts(entity["FinishedAt"]) if entity.get("FinishedAt") else None,
                   etag=getattr(entity, "metadata", {}).get("etag"))


def _dt(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=timezone.utc)


def _ts(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else 0.0


def _text(value: Any) -> str:
    text = json.dumps(value, separators=(",", ":"), sort_keys=True)
    if len(text) <= _MAX_TEXT:
        return text
    if isinstance(value, dict):  # only failures can grow: keep their keys, drop the messages
        return json.dumps({k: "" for k in value}, separators=(",", ":"), sort_keys=True)[:_MAX_TEXT]
    return text[:_MAX_TEXT]


def _json(text: Any, default: Any) -> Any:
    if not isinstance(text, str) or not text:
        return default
    try:
        value = json.loads(text)
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


@dataclass(frozen=True)
class Claim:
    """The result of `claim`: `status` is "claimed" (record is ours), "done" (nothing to do) or
    "busy" (another invocation holds it; `retry_in` seconds until its lease lapses)."""

    status: str
    record: DeliveryRecord
    retry_in: float = 0.0


class DeliveryLedger:
    def __init__(self, clients: StorageClients, *, table: str = DELIVERIES_TABLE,
                 lease_seconds: float = DEFAULT_LEASE_SECONDS, clock: Callable[[], float] = time.time):
        self.clients = clients
        self.table_name = table
        self.lease_seconds = lease_seconds
        self.clock = clock
        self._table = None

    def _client(self):
        if self._table is None:
            self._table = self.clients.table().get_table_client(self.table_name)
        return self._table

    def _create_table(self) -> None:
        from azure.core.exceptions import ResourceExistsError
        try:
            self.clients.table().create_table(self.table_name)
        except ResourceExistsError:
            pass

    @staticmethod
    def new_owner() -> str:
        return uuid.uuid4().hex

    def get(self, delivery_id: str) -> DeliveryRecord | None:
        from azure.core.exceptions import ResourceNotFoundError
        try:
            return DeliveryRecord.from_entity(self._client().get_entity(blob_name(delivery_id), ROW_KEY))
        except ResourceNotFoundError:
            return None

    def claim(self, delivery_id: str, owner: str, *, event: str = "", repo: str = "") -> Claim:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode

        now = self.clock()
        fresh = DeliveryRecord(delivery_id=delivery_id, key=blob_name(delivery_id), state=RUNNING, owner=owner,
                               lease_until=now + self.lease_seconds, attempts=1, event=event, repo=repo,
                               first_seen=now)
        for _ in range(3):  # a record deleted between our insert and read: start over (bounded)
            try:
                try:
                    meta = self._client().create_entity(fresh.to_entity())
                except ResourceNotFoundError:  # fresh storage: no table yet
                    self._create_table()
                    meta = self._client().create_entity(fresh.to_entity())
                fresh.etag = meta.get("etag")
                return Claim("claimed", fresh)
            except ResourceExistsError:
                pass
            try:
                entity = self._client().get_entity(fresh.key, ROW_KEY)
            except ResourceNotFoundError:
                continue
            record = DeliveryRecord.from_entity(entity)
            if record.state == DONE:
                return Claim("done", record)
            if record.state == RUNNING and record.lease_until > now and record.owner != owner:
                return Claim("busy", record, retry_in=record.lease_until - now)
            record.state, record.owner = RUNNING, owner
            record.lease_until = now + self.lease_seconds
            record.attempts += 1
            try:
                meta = self._client().update_entity(record.to_entity(), mode=UpdateMode.REPLACE, etag=record.etag,
                                                    match_condition=MatchConditions.IfNotModified)
            except ResourceModifiedError:  # another invocation took it over first
                current = self.get(delivery_id) or record
                return Claim("done" if current.state == DONE else "busy", current,
                             retry_in=max(current.lease_until - now, 1.0))
            record.etag = meta.get("etag")
            return Claim("claimed", record)
        raise RuntimeError(f"could not claim delivery {delivery_id}: its record keeps disappearing")

    def save(self, record: DeliveryRecord) -> None:
        """Write the record if nobody took the delivery over since we last wrote it."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode
        try:
            meta = self._client().update_entity(record.to_entity(), mode=UpdateMode.REPLACE, etag=record.etag,
                                                match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError) as exc:
            raise LostClaim(f"delivery {record.delivery_id} was taken over by another invocation") from exc
        record.etag = meta.get("etag")

    def finish(self, record: DeliveryRecord, outcome: str) -> None:
        record.state, record.outcome, record.failures = DONE, outcome, {}
        record.owner, record.lease_until, record.finished_at = "", 0.0, self.clock()
        self.save(record)

    def release(self, record: DeliveryRecord, outcome: str) -> None:
        """End this attempt leaving the delivery for a later one (completed units stay recorded)."""
        record.state, record.outcome = RETRY, outcome
        record.owner, record.lease_until = "", 0.0
        self.save(record)
