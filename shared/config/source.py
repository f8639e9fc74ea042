"""Where the configuration comes from, and a cache that reloads it only when it changed.

`PROW_CONFIG_PATH`, `PROW_JOB_CONFIG_PATH` and `PROW_PLUGIN_CONFIG_PATH` (Prow's `--config-path`,
`--job-config-path`, `--plugin-config`) each name one of:

- a local path (a file; for job configs a file or a directory searched recursively);
- `blob://<container>/<name>` in the app's storage (`PROW_STORAGE`): a blob, or for job configs
  a blob or a "directory" — every blob whose name starts with `<name>/`;
- the same as a URL of the app's blob endpoint:
  `https://<account>.blob.core.windows.net/<container>/<name>`, or with Azurite
  `http://127.0.0.1:10000/devstoreaccount1/<container>/<name>`. A URL into another account is
  refused: the app only reads its own storage, with its own identity.

Diagnostics name blobs as `blob://<container>/<name>`.

`ConfigSource.get_config()` loads once, then at most every `min_interval` seconds checks a cheap
signature (local: size and mtime of every file involved; blobs: one listing per container, names
and ETags) and reloads only when it changed, downloading only the blobs that changed. A changed
config with errors is logged and never replaces the last good one; with no good one yet,
`get_config()` raises ConfigError.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Literal, Mapping
from urllib.parse import unquote, urlsplit

from .errors import ConfigError, Diagnostic
from .loader import LoadedConfig, LocalReader, load_config

log = logging.getLogger(__name__)

BLOB_SCHEME = "blob://"
CONFIG_PATH_SETTING = "PROW_CONFIG_PATH"
JOB_CONFIG_PATH_SETTING = "PROW_JOB_CONFIG_PATH"
PLUGIN_CONFIG_PATH_SETTING = "PROW_PLUGIN_CONFIG_PATH"
DEFAULT_MIN_INTERVAL = 10.0
_DOWNLOAD_THREADS = 16


@dataclass(frozen=True)
class BlobLocation:
    container: str
    name: str

    def __str__(self) -> str:
        return f"{BLOB_SCHEME}{self.container}/{self.name}"


def is_blob_location(value: str) -> bool:
    return value.startswith(BLOB_SCHEME) or value.startswith(("https://", "http://"))


def parse_blob_location(value: str, blob_endpoint: str | None = None) -> BlobLocation:
    """`blob://c/name` or a URL under the app's blob endpoint → BlobLocation; ValueError otherwise."""
    if value.startswith(BLOB_SCHEME):
        rest = value[len(BLOB_SCHEME):]
    else:
        if not blob_endpoint:
            raise ValueError(f"{value}: a blob URL needs the app's storage (PROW_STORAGE)")
        base = blob_endpoint.rstrip("/") + "/"
        if not _same_endpoint(value, base):
            raise ValueError(f"{value} is not in the app's storage account ({base}); "
                             f"copy the config there or use a local path")
        rest = unquote(urlsplit(value).path[len(urlsplit(base).path):])
    container, _, name = rest.partition("/")
    if not container:
        raise ValueError(f"{value}: no container given (expected {BLOB_SCHEME}<container>/<name>)")
    return BlobLocation(container, name.strip("/"))


def _same_endpoint(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc.lower()) == (b.scheme, b.netloc.lower()) and a.path.startswith(b.path)


def _etag(value: str) -> str:
    """Listings give ETags bare, downloads quoted: compare them bare."""
    return (value or "").strip('"')


def _within(name: str, location: str) -> bool:
    """Whether blob `name` is the blob `location` or below it as a directory."""
    return not location or name == location or name.startswith(location + "/")


class BlobSnapshot:
    """A listing of the relevant blobs plus their content, read as a loader `ConfigReader`.

    Paths are `blob://<container>/<name>`; content comes from a cache keyed by ETag, so only
    changed blobs are downloaded."""

    def __init__(self, etags: dict[tuple[str, str], str], fetch: Callable[[str, str], tuple[bytes, str]],
                 cache: dict[tuple[str, str], tuple[str, bytes]]):
        self.etags = etags
        self._fetch = fetch
        self._cache = cache
        self._lock = threading.Lock()

    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        location = parse_blob_location(path)
        return location.container, location.name

    def kind(self, path: str) -> Literal["file", "dir"] | None:
        container, name = self._split(path)
        if (container, name) in self.etags:
            return "file"
        if any(c == container and _within(n, name) for c, n in self.etags):
            return "dir"
        return None

    def files_under(self, root: str) -> list[str]:
        container, name = self._split(root)
        cut = len(name) + 1 if name else 0
        return sorted(n[cut:] for c, n in self.etags if c == container and _within(n, name) and n != name)

    def join(self, root: str, relative: str) -> str:
        container, name = self._split(root)
        return str(BlobLocation(container, f"{name}/{relative}" if name else relative))

    def read(self, path: str) -> bytes:
        key = self._split(path)
        etag = self.etags.get(key)
        if etag is None:
            raise FileNotFoundError(f"no blob {path}")
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[0] == etag:
            return cached[1]
        data, fetched_etag = self._fetch(*key)
        with self._lock:
            self._cache[key] = (fetched_etag, data)
        return data

    def prefetch(self, threads: int = _DOWNLOAD_THREADS) -> int:
        """Download every blob whose cached copy is missing or stale, in parallel; returns how many."""
        with self._lock:
            stale = [key for key, etag in self.etags.items() if self._cache.get(key, ("",))[0] != etag]
            for key in list(self._cache):
                if key not in self.etags:
                    del self._cache[key]
        if stale:
            with ThreadPoolExecutor(max_workers=min(threads, len(stale))) as pool:
                list(pool.map(lambda key: self.read(str(BlobLocation(*key))), stale))
        return len(stale)


class ConfigSource:
    """The app's configuration: loaded once, re-checked at most every `min_interval` seconds,
    reloaded only when its files changed, and never replaced by a config with errors."""

    def __init__(self, config_path: str, job_config_path: str | None = None,
                 plugin_config_path: str | None = None, *, min_interval: float = DEFAULT_MIN_INTERVAL,
                 clients: Any = None, warnings: tuple[str, ...] = (),
                 clock: Callable[[], float] = time.monotonic):
        self.paths = (config_path, job_config_path or None, plugin_config_path or None)
        self.min_interval = min_interval
        self.warnings = warnings
        self._clients = clients
        self._clock = clock
        self._lock = threading.Lock()
        self._current: LoadedConfig | None = None
        self._failure: ConfigError | None = None
        self._seen_signature: Any = None
        self._checked_at: float | None = None
        self._blob_cache: dict[tuple[str, str], tuple[str, bytes]] = {}
        self.loads = 0  # how many times the files were parsed (for tests and logs)
        self._locations = self._resolve_locations()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> "ConfigSource":
        env = os.environ if env is None else env
        config_path = env.get(CONFIG_PATH_SETTING, "").strip()
        if not config_path:
            raise ConfigError([Diagnostic(CONFIG_PATH_SETTING, None,
                                          f"app setting {CONFIG_PATH_SETTING} is not set (the path or "
                                          f"blob URL of config.yaml)")])
        return cls(config_path, env.get(JOB_CONFIG_PATH_SETTING, "").strip() or None,
                   env.get(PLUGIN_CONFIG_PATH_SETTING, "").strip() or None, **kwargs)

    # -- locations ------------------------------------------------------------------------------

    def _resolve_locations(self) -> tuple[str | BlobLocation | None, ...]:
        resolved: list[str | BlobLocation | None] = []
        endpoint = None
        for path in self.paths:
            if path is None or not is_blob_location(path):
                resolved.append(path)
                continue
            if endpoint is None and not path.startswith(BLOB_SCHEME):
                endpoint = self._blob_service().url
            try:
                resolved.append(parse_blob_location(path, endpoint))
            except ValueError as exc:
                raise ConfigError([Diagnostic(path, None, str(exc))]) from None
        return tuple(resolved)

    def _blob_service(self):
        if self._clients is None:
            from shared.storage import default_clients
            self._clients = default_clients()
        return self._clients.blob()

    @property
    def uses_blobs(self) -> bool:
        return any(isinstance(loc, BlobLocation) for loc in self._locations)

    def _loader_paths(self) -> tuple[str | None, ...]:
        return tuple(None if loc is None else str(loc) for loc in self._locations)

    # -- signatures -----------------------------------------------------------------------------

    def _local_signature(self) -> tuple:
        reader = LocalReader()
        entries = []
        for path in self._locations:
            if not isinstance(path, str):
                continue
            files = ([reader.join(path, rel) for rel in reader.files_under(path)]
                     if os.path.isdir(path) else [path])
            for file in files:
                try:
                    stat = os.stat(file)
                    entries.append((file, stat.st_mtime_ns, stat.st_size))
                except OSError:
                    entries.append((file, None, None))
        return tuple(entries)

    def _blob_listing(self) -> dict[tuple[str, str], str]:
        from azure.core.exceptions import ResourceNotFoundError
        by_container: dict[str, list[str]] = {}
        for loc in self._locations:
            if isinstance(loc, BlobLocation):
                by_container.setdefault(loc.container, []).append(loc.name)
        etags: dict[tuple[str, str], str] = {}
        for container, names in by_container.items():
            prefix = os.path.commonprefix(names)
            client = self._blob_service().get_container_client(container)
            try:
                listed = list(client.list_blobs(name_starts_with=prefix or None))
            except ResourceNotFoundError:  # no container: nothing there, the loader says what is missing
                listed = []
            for blob in listed:
                if any(_within(blob.name, name) for name in names):
                    etags[(container, blob.name)] = _etag(blob.etag)
        return etags

    def _fetch_blob(self, container: str, name: str) -> tuple[bytes, str]:
        downloader = self._blob_service().get_container_client(container).download_blob(name)
        data = downloader.readall()
        return data, _etag(downloader.properties.etag)

    # -- publishing (config-updater) ------------------------------------------------------------

    @property
    def locations(self) -> tuple[str | BlobLocation | None, ...]:
        """Where config.yaml, the job configs and plugins.yaml are read from: a local path, a
        BlobLocation, or None (not configured)."""
        return self._locations

    def blob_listing(self) -> dict[tuple[str, str], str]:
        """The config blobs now: (container, name) → ETag."""
        return self._blob_listing()

    def load_with(self, changes: Mapping[BlobLocation, bytes | None], *, listing: dict | None = None,
                  warnings: tuple[str, ...] | None = None) -> LoadedConfig:
        """The config as it would load once `changes` (new content, or None to delete) are written;
        nothing is written. Blobs the changes do not touch come from the cache or are downloaded."""
        etags = dict(self._blob_listing() if listing is None else listing)
        pending: dict[tuple[str, str], bytes] = {}
        for location, data in changes.items():
            key = (location.container, location.name)
            if data is None:
                etags.pop(key, None)
            else:
                pending[key] = data
                etags[key] = f"pending-{len(pending)}"

        def fetch(container: str, name: str) -> tuple[bytes, str]:
            if (container, name) in pending:
                return pending[(container, name)], etags[(container, name)]
            return self._fetch_blob(container, name)

        snapshot = BlobSnapshot(etags, fetch, dict(self._blob_cache))
        return load_config(*self._loader_paths(), reader=snapshot,
                           warnings=self.warnings if warnings is None else warnings)

    def publish(self, changes: Mapping[BlobLocation, bytes | None]) -> list[BlobLocation]:
        """Write `changes` to the app's storage (None deletes the blob) and reload. A blob that holds
        the content already (by MD5), or is already gone, is left alone, so publishing twice writes
        once. Returns the blobs that changed."""
        import hashlib

        from azure.core.exceptions import ResourceNotFoundError
        from azure.storage.blob import ContentSettings
        changed: list[BlobLocation] = []
        for location, data in changes.items():
            blob = self._blob_service().get_blob_client(location.container, location.name)
            try:
                current = blob.get_blob_properties()
            except ResourceNotFoundError:
                current = None
            if data is None:
                if current is not None:
                    try:
                        blob.delete_blob()
                    except ResourceNotFoundError:
                        pass
                    changed.append(location)
                continue
            digest = hashlib.md5(data).digest()
            stored = current.content_settings.content_md5 if current is not None else None
            if stored is not None and bytes(stored) == digest:
                continue
            settings = ContentSettings(content_type="application/yaml", content_md5=bytearray(digest))
            try:
                blob.upload_blob(data, overwrite=True, content_settings=settings)
            except ResourceNotFoundError:  # no container yet
                self._blob_service().create_container(location.container)
                blob.upload_blob(data, overwrite=True, content_settings=settings)
            changed.append(location)
        if changed:
            self.refresh()
        return changed

    # -- loading --------------------------------------------------------------------------------

    def get_config(self) -> LoadedConfig:
        """The current good config. Cheap when checked less than `min_interval` ago or unchanged."""
        current = self._current
        if current is not None and not self._due():
            return current
        if current is not None:
            if not self._lock.acquire(blocking=False):
                return current  # another thread is checking; serve what we have
        else:
            self._lock.acquire()
        try:
            if self._due():
                self._check()
            if self._current is None:
                raise self._failure or ConfigError([])
            return self._current
        finally:
            self._lock.release()

    def refresh(self) -> LoadedConfig:
        """Check for changes now, ignoring `min_interval`."""
        with self._lock:
            self._checked_at = None
        return self.get_config()

    def _due(self) -> bool:
        return self._checked_at is None or self._clock() - self._checked_at >= self.min_interval

    def _check(self) -> None:
        try:
            snapshot = None
            signature: Any = self._local_signature()
            if self.uses_blobs:
                snapshot = BlobSnapshot(self._blob_listing(), self._fetch_blob, self._blob_cache)
                signature = (signature, tuple(sorted(snapshot.etags.items())))
            self._checked_at = self._clock()
            if signature == self._seen_signature:
                return
            if snapshot is not None:
                log.info("config: downloaded %d changed blob(s)", snapshot.prefetch())
        except Exception as exc:  # storage unreachable, throttled, ...: keep serving
            self._checked_at = self._clock()
            if self._current is None:
                raise ConfigError([Diagnostic(str(self.paths[0]), None,
                                              f"cannot read the config: {exc}")]) from exc
            log.warning("config: cannot check for changes (%s); still serving the last good config", exc)
            return
        started = time.monotonic()
        loaded = load_config(*self._loader_paths(), reader=snapshot or LocalReader(), warnings=self.warnings)
        self.loads += 1
        self._seen_signature = signature
        if loaded.errors:
            for diagnostic in loaded.errors:
                log.error("config: %s", diagnostic)
            if self._current is None:
                self._failure = ConfigError(loaded.errors)
                log.error("config: %d error(s); no valid config loaded yet", len(loaded.errors))
            else:
                log.error("config: the changed config has %d error(s); still serving the last good one",
                          len(loaded.errors))
            return
        for diagnostic in loaded.warnings:
            log.warning("config: %s", diagnostic)
        self._current, self._failure = loaded, None
        log.info("config: loaded %d file(s) in %.2fs", len(loaded.files), time.monotonic() - started)


_default: ConfigSource | None = None
_default_key: tuple | None = None
_default_lock = threading.Lock()


def default_source() -> ConfigSource:
    """The process-wide ConfigSource for the current PROW_*_PATH settings (rebuilt if they change)."""
    global _default, _default_key
    key = tuple(os.environ.get(name, "").strip() for name in
                (CONFIG_PATH_SETTING, JOB_CONFIG_PATH_SETTING, PLUGIN_CONFIG_PATH_SETTING))
    with _default_lock:
        if _default is None or _default_key != key:
            _default, _default_key = ConfigSource.from_env(), key
        return _default


def get_config() -> LoadedConfig:
    """The app's current configuration (see ConfigSource.get_config)."""
    return default_source().get_config()
