"""The app's storage: names (fixed contracts) and clients built from the `PROW_STORAGE` setting.

`PROW_STORAGE` is a connection string (Azurite locally). In Azure it is identity-based, the way the
Functions host reads identity connections: `PROW_STORAGE__blobServiceUri`, `__queueServiceUri`,
`__tableServiceUri` (or `PROW_STORAGE__accountName` for the public cloud's default endpoints), with
`DefaultAzureCredential` (`PROW_STORAGE__clientId` picks a user-assigned identity).

The SDKs are imported inside the functions that need them, so importing this module costs nothing.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping

WEBHOOK_EVENTS_QUEUE = "webhook-events"
PROWJOBS_QUEUE = "prowjobs"
WEBHOOKS_CONTAINER = "webhooks"
PROWJOBS_TABLE = "prowjobs"
DELIVERIES_TABLE = "deliveries"   # one record per webhook delivery: dispatch's dedupe (shared/ledger.py)
STATUS_RECONCILER_TABLE = "statusreconciler"   # the last reconciled job config and progress (shared/status_reconciler.py)
WEB_CONTAINER = "$web"

SETTING = "PROW_STORAGE"


class StorageConfigError(Exception):
    """PROW_STORAGE is missing or incomplete."""


@dataclass(frozen=True)
class StorageSettings:
    connection_string: str | None = None
    blob_uri: str | None = None
    queue_uri: str | None = None
    table_uri: str | None = None
    client_id: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, setting: str = SETTING) -> "StorageSettings":
        env = os.environ if env is None else env
        conn = env.get(setting, "").strip()
        if conn:
            return cls(connection_string=conn)
        account = env.get(f"{setting}__accountName", "").strip()
        uris = {kind: env.get(f"{setting}__{kind}ServiceUri", "").strip() or
                (f"https://{account}.{kind}.core.windows.net" if account else "")
                for kind in ("blob", "queue", "table")}
        if not any(uris.values()):
            raise StorageConfigError(
                f"app setting {setting} is not set: give a connection string, or "
                f"{setting}__blobServiceUri, {setting}__queueServiceUri and {setting}__tableServiceUri")
        return cls(blob_uri=uris["blob"] or None, queue_uri=uris["queue"] or None,
                   table_uri=uris["table"] or None,
                   client_id=env.get(f"{setting}__clientId", "").strip() or None)


# Transport settings: fail fast enough that the hook can still answer GitHub (10 s deadline) with a
# 5xx when storage is down, and retry a few times for a transient error. Blob and Queue clients use
# the storage ExponentialRetry (initial_backoff/increment_base/jitter; its defaults wait 15 s, then
# 18 s), Tables uses azure-core's RetryPolicy (retry_backoff_factor).
CLIENT_OPTIONS: dict[str, Any] = {
    "retry_total": 2,
    "initial_backoff": 0.2,
    "increment_base": 1.5,
    "random_jitter_range": 0.2,
    "retry_backoff_factor": 0.3,
    "connection_timeout": 3,
    "read_timeout": 20,
}


class StorageClients:
    """Lazily built, process-wide service clients (they are thread-safe and keep connections)."""

    def __init__(self, settings: StorageSettings, **options: Any):
        self.settings = settings
        self.options = {**CLIENT_OPTIONS, **options}
        self._lock = threading.Lock()
        self._blob = self._queue = self._table = None
        self._credential = None

    def _credential_for_identity(self):
        if self._credential is None:
            from azure.identity import DefaultAzureCredential
            kwargs = {"managed_identity_client_id": self.settings.client_id} if self.settings.client_id else {}
            self._credential = DefaultAzureCredential(**kwargs)
        return self._credential

    def _require(self, uri: str | None, kind: str) -> str:
        if not uri:
            raise StorageConfigError(f"{SETTING}__{kind}ServiceUri is not set")
        return uri

    def blob(self):
        with self._lock:
            if self._blob is None:
                from azure.storage.blob import BlobServiceClient
                s = self.settings
                if s.connection_string:
                    self._blob = BlobServiceClient.from_connection_string(s.connection_string, **self.options)
                else:
                    self._blob = BlobServiceClient(self._require(s.blob_uri, "blob"),
                                                   credential=self._credential_for_identity(), **self.options)
            return self._blob

    def queue(self):
        with self._lock:
            if self._queue is None:
                from azure.storage.queue import QueueServiceClient
                s = self.settings
                if s.connection_string:
                    self._queue = QueueServiceClient.from_connection_string(s.connection_string, **self.options)
                else:
                    self._queue = QueueServiceClient(self._require(s.queue_uri, "queue"),
                                                     credential=self._credential_for_identity(), **self.options)
            return self._queue

    def table(self):
        with self._lock:
            if self._table is None:
                from azure.data.tables import TableServiceClient
                s = self.settings
                if s.connection_string:
                    self._table = TableServiceClient.from_connection_string(s.connection_string, **self.options)
                else:
                    self._table = TableServiceClient(self._require(s.table_uri, "table"),
                                                     credential=self._credential_for_identity(), **self.options)
            return self._table

    def write_creating_table(self, table_name: str, op: Callable[[], Any]) -> Any:
        """Run a Table write; if the table does not exist yet, create it (a race with another creator is
        fine) and run the write once more. For the app's own tables, which `init-storage` and the infra
        create but a fresh Azurite or a new deployment may lack."""
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
        try:
            return op()
        except ResourceNotFoundError:
            try:
                self.table().create_table(table_name)
            except ResourceExistsError:
                pass
            return op()

    def queue_client(self, name: str):
        """A client for one queue that speaks the Functions host's default base64 encoding."""
        from azure.storage.queue import TextBase64DecodePolicy, TextBase64EncodePolicy
        service = self.queue()
        return service.get_queue_client(name, message_encode_policy=TextBase64EncodePolicy(),
                                        message_decode_policy=TextBase64DecodePolicy())


_default: StorageClients | None = None
_default_key: StorageSettings | None = None
_default_lock = threading.Lock()


def default_clients() -> StorageClients:
    """The process-wide clients for the current PROW_STORAGE settings (rebuilt if they change)."""
    global _default, _default_key
    settings = StorageSettings.from_env()
    with _default_lock:
        if _default is None or _default_key != settings:
            _default, _default_key = StorageClients(settings), settings
        return _default
