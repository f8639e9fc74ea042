"""Conditional-request cache: the last ETag and body of each GET, so that a repeated read is a 304.

GitHub does not count a 304 against the rate limit, so re-reading OWNERS files, PR file lists and labels
across events costs nothing once they are cached. Entries are keyed per auth identity (`scope`: a hash of
the token, or the App installation) so one installation never gets another's private data.

Storage layout (names are ours, not external contracts; `python -m shared.cli init-storage` need not
create them, the cache creates them on first use):

* Table `githubcache`, one entity per (identity, URL, Accept):
  PartitionKey = `<sha256(scope)[:16]>-<sha256(path prefix)[:16]>` (path prefix = `/repos/o/r`,
  `/orgs/o`, ...: spreads partitions, and one identity's entries are a PartitionKey range);
  RowKey = sha256 of `"<full URL with query>\\n<Accept>"`.
  Properties: `etag`, `status`, `link` (pagination survives a 304), `url` (for people), `encoding`
  ("gzip"), and either `body` (gzip, inline when it fits a Table property) or `blob` (its name).
* Blob container `githubcache`: bodies too large for a Table property (a page of 100 PR files, a large
  OWNERS file) at `<PartitionKey>/<RowKey>`, with the ETag in the blob's metadata. A reader uses the blob
  only if that ETag equals the entity's, so a race between two writers degrades to a cache miss,
  never to a wrong body, and each key has exactly one blob (no orphans when a resource changes).

Every storage failure is logged and treated as a miss: the cache can make GitHub calls cheaper, never fail.
There is no expiry yet; entries are overwritten in place when a resource changes.
"""
from __future__ import annotations

import gzip
import hashlib
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from shared.storage import StorageClients

log = logging.getLogger(__name__)

CACHE_TABLE = "githubcache"
CACHE_CONTAINER = "githubcache"
INLINE_LIMIT = 48 * 1024  # gzip bytes kept in the entity (a binary property holds at most 64 KiB)


@dataclass(frozen=True)
class CachedResponse:
    etag: str
    status: int
    body: bytes
    link: str | None = None


class ETagCache(Protocol):
    def get(self, scope: str, url: str, accept: str) -> CachedResponse | None: ...

    def put(self, scope: str, url: str, accept: str, response: CachedResponse) -> None: ...


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def path_prefix(url: str) -> str:
    """The owning resource of a URL: `/repos/o/r`, `/orgs/o`, `/users/u`, else its first segment."""
    segments = [s for s in urlsplit(url).path.lower().split("/") if s]
    for i, segment in enumerate(segments):
        if segment == "repos":
            return "/" + "/".join(segments[i:i + 3])
        if segment in ("orgs", "users", "app"):
            return "/" + "/".join(segments[i:i + 2])
    return "/" + "/".join(segments[:1])


def cache_keys(scope: str, url: str, accept: str) -> tuple[str, str]:
    """(PartitionKey, RowKey) of an entry: hex only, so always valid Table keys and blob names."""
    return f"{_sha(scope)[:16]}-{_sha(path_prefix(url))[:16]}", _sha(f"{url}\n{accept}")


class MemoryETagCache:
    """In-process cache for tests and local runs (bounded, least recently used first out)."""

    def __init__(self, max_entries: int = 4096):
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, str], CachedResponse] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, scope: str, url: str, accept: str) -> CachedResponse | None:
        key = cache_keys(scope, url, accept)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, scope: str, url: str, accept: str, response: CachedResponse) -> None:
        key = cache_keys(scope, url, accept)
        with self._lock:
            self._entries[key] = response
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class StorageETagCache:
    """The ETag index in Table storage and large bodies in Blob storage (see the module docstring)."""

    def __init__(self, clients: StorageClients, *, table: str = CACHE_TABLE, container: str = CACHE_CONTAINER,
                 inline_limit: int = INLINE_LIMIT):
        self._clients = clients
        self.table_name, self.container_name, self.inline_limit = table, container, inline_limit
        self._table = self._container = None
        self._lock = threading.Lock()

    def _ensure(self):
        if self._table is None:
            with self._lock:
                if self._table is None:
                    from azure.core.exceptions import ResourceExistsError
                    table = self._clients.table().create_table_if_not_exists(self.table_name)
                    container = self._clients.blob().get_container_client(self.container_name)
                    try:
                        container.create_container()
                    except ResourceExistsError:
                        pass
                    self._container, self._table = container, table
        return self._table, self._container

    def get(self, scope: str, url: str, accept: str) -> CachedResponse | None:
        pk, rk = cache_keys(scope, url, accept)
        try:
            from azure.core.exceptions import ResourceNotFoundError
            table, container = self._ensure()
            try:
                entity = table.get_entity(pk, rk)
            except ResourceNotFoundError:
                return None
            etag = entity.get("etag")
            if not etag:
                return None
            if entity.get("blob"):
                try:
                    download = container.download_blob(entity["blob"])
                except ResourceNotFoundError:
                    return None
                if (download.properties.metadata or {}).get("etag") != _sha(etag):
                    return None  # another writer's body: a miss, never a wrong answer
                data = download.readall()
            else:
                data = entity.get("body") or b""
            body = gzip.decompress(data) if entity.get("encoding") == "gzip" else bytes(data)
            return CachedResponse(etag=etag, status=int(entity.get("status") or 200), body=body,
                                  link=entity.get("link") or None)
        except Exception:  # noqa: BLE001 - a broken cache must not break GitHub calls
            log.warning("github cache: read of %s failed; treating as a miss", url, exc_info=True)
            return None

    def put(self, scope: str, url: str, accept: str, response: CachedResponse) -> None:
        pk, rk = cache_keys(scope, url, accept)
        try:
            from azure.data.tables import UpdateMode
            from azure.storage.blob import ContentSettings
            table, container = self._ensure()
            data = gzip.compress(response.body, compresslevel=5, mtime=0)
            entity = {"PartitionKey": pk, "RowKey": rk, "etag": response.etag, "status": response.status,
                      "url": url[:1024], "accept": accept[:256], "encoding": "gzip"}
            if response.link:
                entity["link"] = response.link[:16000]
            if len(data) <= self.inline_limit:
                entity["body"] = data
            else:
                name = f"{pk}/{rk}"
                # no Content-Encoding: the HTTP stack would inflate the body on download
                container.upload_blob(name, data, overwrite=True, metadata={"etag": _sha(response.etag)},
                                      content_settings=ContentSettings(content_type="application/gzip"))
                entity["blob"] = name
            table.upsert_entity(entity, mode=UpdateMode.REPLACE)
        except Exception:  # noqa: BLE001
            log.warning("github cache: write of %s failed", url, exc_info=True)
