"""What Tide keeps between syncs, and what it publishes.

Table `tide` (created on first use):

    PartitionKey   RowKey                 holds
    lock           sync                   the singleton lease: Owner, Expires (RFC 3339). Taken by insert,
                                          or by an ETag-conditional replace once expired; renewed by the
                                          holder (If-Match its ETag) before every merge, so a run whose
                                          lease was taken over stops before it could merge twice.
    failed         <org>/<repo>#<n>       a PR whose merge GitHub refused: Head, Base, Error. Not picked
                                          again until its head or its base branch moves (not in Prow).

Blob container `$web` (the dashboard's), JSON for deck's Tide pages:

    data/tide.json           {"Queries": [search strings], "TideQueries": [query objects],
                              "Pools": [{"Org", "Repo", "Branch", "SuccessPRs", "PendingPRs", "MissingPRs",
                                         "BatchPending", "Action", "Target", "Blockers", "Error",
                                         "TenantIDs"}], "Updated": RFC 3339}
                             (PRs trimmed as deck trims them: {"Title", "Number", "HeadRefOID", "Mergeable"};
                             Action: WAIT | TRIGGER | TRIGGER_BATCH | MERGE | MERGE_BATCH | BLOCKED;
                             Blockers: [{"Number", "Title", "URL"}])
    data/tide-history.json   {"History": {"<org>/<repo>:<branch>": [{"time", "action", "baseSHA",
                              "target": [{"number", "author", "sha", "title", "head_ref"}], "err",
                              "tenantids": [""]}, ... newest first, at most 1000]}}
                             (only TRIGGER, TRIGGER_BATCH, MERGE and MERGE_BATCH are recorded)
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from shared.storage import WEB_CONTAINER, StorageClients

log = logging.getLogger("prow.tide")

TIDE_TABLE = "tide"
POOLS_BLOB = "data/tide.json"
HISTORY_BLOB = "data/tide-history.json"
LOCK_TTL = timedelta(minutes=5)
HISTORY_LIMIT = 1000


class LockLost(Exception):
    """Another run holds the Tide lease now: stop before acting."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FailedMerge:
    head: str
    base: str
    error: str


class TideState:
    def __init__(self, clients: StorageClients, *, table: str = TIDE_TABLE):
        self.clients = clients
        self.table_name = table
        self._table = None
        self._lock_etag: str | None = None
        self._owner = ""

    def table(self):
        if self._table is None:
            self._table = self.clients.table().get_table_client(self.table_name)
        return self._table

    def _write(self, op):
        return self.clients.write_creating_table(self.table_name, op)

    # -- the singleton lease

    def acquire(self, owner: str, *, now: datetime, ttl: timedelta = LOCK_TTL) -> bool:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode
        entity = {"PartitionKey": "lock", "RowKey": "sync", "Owner": owner, "Expires": _iso(now + ttl)}
        try:
            meta = self._write(lambda: self.table().create_entity(entity))
        except ResourceExistsError:
            try:
                current = self.table().get_entity("lock", "sync")
            except ResourceNotFoundError:
                return False
            if current.get("Expires", "") > _iso(now):
                log.info("tide: sync skipped, %s holds the lease until %s", current.get("Owner"), current.get("Expires"))
                return False
            try:
                meta = self.table().update_entity(entity, mode=UpdateMode.REPLACE, etag=current.metadata["etag"],
                                                  match_condition=MatchConditions.IfNotModified)
            except (ResourceModifiedError, ResourceNotFoundError):
                return False
        self._lock_etag, self._owner = meta.get("etag"), owner
        return True

    def renew(self, *, now: datetime, ttl: timedelta = LOCK_TTL) -> None:
        """Extend the lease; LockLost if another run took it over."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode
        entity = {"PartitionKey": "lock", "RowKey": "sync", "Owner": self._owner, "Expires": _iso(now + ttl)}
        try:
            meta = self.table().update_entity(entity, mode=UpdateMode.REPLACE, etag=self._lock_etag,
                                              match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError) as exc:
            raise LockLost("the tide lease was taken over by another run") from exc
        self._lock_etag = meta.get("etag")

    def release(self) -> None:
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
        if not self._lock_etag:
            return
        try:
            self.table().delete_entity("lock", "sync", etag=self._lock_etag,
                                       match_condition=MatchConditions.IfNotModified)
        except (ResourceModifiedError, ResourceNotFoundError):
            pass
        self._lock_etag = None

    # -- failed merges

    def failed_merges(self) -> dict[str, FailedMerge]:
        from azure.core.exceptions import ResourceNotFoundError
        try:
            rows = list(self.table().query_entities("PartitionKey eq 'failed'"))
        except ResourceNotFoundError:
            return {}
        return {row["Key"]: FailedMerge(row.get("Head", ""), row.get("Base", ""), row.get("Error", ""))
                for row in rows}

    @staticmethod
    def _row(key: str) -> str:
        from shared.jobs.store import key as table_key
        return table_key(key)

    def remember_failed(self, key: str, head: str, base: str, error: str) -> None:
        from azure.data.tables import UpdateMode
        entity = {"PartitionKey": "failed", "RowKey": self._row(key), "Key": key, "Head": head, "Base": base,
                  "Error": error[:30000]}
        self._write(lambda: self.table().upsert_entity(entity, mode=UpdateMode.REPLACE))

    def forget_failed(self, key: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError
        try:
            self.table().delete_entity("failed", self._row(key))
        except ResourceNotFoundError:
            pass

    # -- dashboard data

    def _blob(self, name: str):
        return self.clients.blob().get_blob_client(WEB_CONTAINER, name)

    def load_history(self) -> dict[str, list[dict]]:
        from azure.core.exceptions import ResourceNotFoundError
        try:
            doc = json.loads(self._blob(HISTORY_BLOB).download_blob().readall())
        except ResourceNotFoundError:
            return {}
        except ValueError:
            log.warning("tide: %s is not JSON; starting a new history", HISTORY_BLOB)
            return {}
        history = doc.get("History") if isinstance(doc, dict) else None
        return history if isinstance(history, dict) else {}

    def publish(self, pools_doc: dict[str, Any], history: dict[str, list[dict]]) -> None:
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
        from azure.storage.blob import ContentSettings
        settings = ContentSettings(content_type="application/json", cache_control="no-cache")
        for name, doc in ((POOLS_BLOB, pools_doc), (HISTORY_BLOB, {"History": history})):
            data = json.dumps(doc, separators=(",", ":"))
            try:
                self._blob(name).upload_blob(data, overwrite=True, content_settings=settings)
            except ResourceNotFoundError:
                try:
                    self.clients.blob().create_container(WEB_CONTAINER)
                except ResourceExistsError:
                    pass
                self._blob(name).upload_blob(data, overwrite=True, content_settings=settings)

    def read_json(self, name: str) -> Any:
        return json.loads(self._blob(name).download_blob().readall())
