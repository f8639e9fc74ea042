"""Report leases: one reconcile tick at a time reports the jobs of one pull request (crier's PR lock).

Prow's GitHub reporter holds an in-process lock per pull request around the failure comment
(list the comments, delete, edit or create), so two jobs of one PR reported at once cannot each
post a comment. Our reporters are reconcile ticks that may overlap, on several instances, so the
lock is a short lease in Table `prowjobs`:

    PartitionKey   RowKey                          holds
    reportlock     <org>/<repo>#<n> | <org>/<repo>@<sha>   Owner (one tick), Expires (datetime)

Taken by insert (insert-if-absent: of two racing ticks one wins), or by an ETag-conditional replace
once `Expires` is past (a tick that died); renewed by its holder, If-Match its ETag, before every
GitHub write, so a holder whose lease lapsed and was taken over stops before it writes (`LeaseLost`);
deleted If-Match when the tick is done with that target. A tick that finds the lease held leaves the
target's reports to the next tick: they stay unreported in the store, so nothing is lost.
"""
from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping

from .model import utc_now
from .store import JobStore, _etag, key

log = logging.getLogger("prow.report")

PARTITION = "reportlock"
DEFAULT_TTL = timedelta(minutes=2)


class LeaseLost(Exception):
    """Another tick holds the report lease now: stop before writing to GitHub."""


def lease_target(refs: Mapping[str, Any] | None) -> str:
    """What one lease covers: a pull request, or for jobs without one the commit they report on."""
    refs = refs or {}
    repo = f"{refs.get('org', '')}/{refs.get('repo', '')}"
    pulls = refs.get("pulls") or []
    if pulls:
        return f"{repo}#{pulls[0].get('number', '')}"
    return f"{repo}@{refs.get('base_sha', '')}"


class ReportLease:
    """The lease of one target, held by one owner (`acquire` once, then `renew`, `release`)."""

    def __init__(self, store: JobStore, target: str, *, owner: str | None = None,
                 ttl: timedelta = DEFAULT_TTL, clock: Callable[[], datetime] = utc_now):
        self.store = store
        self.target = target
        self.owner = owner or uuid.uuid4().hex
        self.ttl = ttl
        self.clock = clock
        self._etag: str | None = None

    def _entity(self) -> dict[str, Any]:
        return {"PartitionKey": PARTITION, "RowKey": key(self.target), "Owner": self.owner,
                "Expires": self.clock() + self.ttl}

    def acquire(self) -> bool:
        """Take the lease if nobody holds it (or its holder's lease lapsed); False if it is held."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode
        table = self.store.table()
        try:
            meta = self.store._write(lambda: table.create_entity(self._entity()))
        except ResourceExistsError:
            try:
                current = table.get_entity(PARTITION, key(self.target))
            except ResourceNotFoundError:
                return False                    # released just now: the next tick takes it
            expires = current.get("Expires")
            if isinstance(expires, datetime) and expires > self.clock():
                log.info("report: %s is being reported by %s until %s", self.target, current.get("Owner"), expires)
                return False
            try:
                meta = table.update_entity(self._entity(), mode=UpdateMode.REPLACE, etag=_etag(current),
                                           match_condition=MatchConditions.IfNotModified)
            except (ResourceModifiedError, ResourceNotFoundError):
                return False
        self._etag = _etag(meta)
        return True

    def renew(self) -> None:
        """Extend the lease before a GitHub write; `LeaseLost` if another tick took it over."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode
        try:
            meta = self.store.table().update_entity(self._entity(), mode=UpdateMode.REPLACE, etag=self._etag,
                                                    match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError) as exc:
            raise LeaseLost(f"the report lease of {self.target} was taken over by another tick") from exc
        self._etag = _etag(meta)

    def release(self) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
        if not self._etag:
            return
        try:
            self.store.table().delete_entity(PARTITION, key(self.target), etag=self._etag,
                                             match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            pass
        self._etag = None
