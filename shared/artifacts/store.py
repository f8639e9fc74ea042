"""`ArtifactStore`: one Blob container holding Prow's layout, over azure-storage-blob.

Files are streamed from disk (`upload_file` never reads a whole file into memory; the SDK sends
it in blocks); many small files go up on a thread pool. Content types follow the extension and
`gcs_configuration.mediaTypes`; `x.txt.gz` is stored as `x.txt` with `Content-Encoding: gzip`, as
Prow's gcs uploader does. `#` needs no escaping here: the SDK quotes blob names itself.
"""
from __future__ import annotations

import mimetypes
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from .records import dumps

BLOCK_SIZE = 8 * 1024 * 1024
SINGLE_PUT_LIMIT = 8 * 1024 * 1024
TREE_WORKERS = 16
FILE_CONCURRENCY = 4


class ArtifactError(Exception):
    """A write to the artifact container failed."""


@dataclass(frozen=True)
class Upload:
    name: str          # blob name in the container
    source: Path


def content_settings_for(name: str, media_types: Mapping[str, str] | None = None) -> tuple[str, dict]:
    """(stored name, ContentSettings kwargs) for a file called `name`."""
    stored, encoding = name, None
    if name.endswith(".gz") and "." in name[:-3].rsplit("/", 1)[-1]:
        stored, encoding = name[:-3], "gzip"
    extension = os.path.splitext(stored)[1].lstrip(".")
    content_type = (media_types or {}).get(extension) or mimetypes.guess_type(stored)[0]
    if content_type is None and extension in ("log", "txt", ""):
        content_type = "text/plain; charset=utf-8"
    settings: dict[str, Any] = {"content_type": content_type or "application/octet-stream"}
    if content_type and content_type.startswith("text/") and "charset" not in content_type:
        settings["content_type"] = content_type + "; charset=utf-8"
    if encoding:
        settings["content_encoding"] = encoding
    return stored, settings


class ArtifactStore:
    """Writes and reads one container's blobs (`container` is an azure ContainerClient)."""

    def __init__(self, container: Any, *, media_types: Mapping[str, str] | None = None):
        self.container = container
        self.media_types = dict(media_types or {})

    @classmethod
    def from_account(cls, account_url: str, container: str, credential: Any, **kwargs: Any) -> "ArtifactStore":
        from azure.storage.blob import ContainerClient
        options = {"max_block_size": BLOCK_SIZE, "max_single_put_size": SINGLE_PUT_LIMIT,
                   "connection_timeout": 10, "read_timeout": 120}
        client = ContainerClient(account_url, container, credential=credential, **options)
        return cls(client, media_types=kwargs.get("media_types"))

    def ensure_container(self) -> None:
        from azure.core.exceptions import ResourceExistsError
        try:
            self.container.create_container()
        except ResourceExistsError:
            pass

    def _settings(self, name: str):
        from azure.storage.blob import ContentSettings
        stored, settings = content_settings_for(name, self.media_types)
        return stored, ContentSettings(**settings)

    def write(self, name: str, data: bytes | str, *, metadata: Mapping[str, str] | None = None,
              create_only: bool = False) -> bool:
        """Write one blob; with `create_only`, an existing blob stays and False is returned."""
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings
        _, settings = content_settings_for(name, self.media_types)
        settings.pop("content_encoding", None)
        kwargs: dict[str, Any] = {"overwrite": not create_only, "content_settings": ContentSettings(**settings)}
        if metadata:
            kwargs["metadata"] = dict(metadata)
        if create_only:
            kwargs["if_none_match"] = "*"
        try:
            self.container.upload_blob(name, data.encode() if isinstance(data, str) else data, **kwargs)
        except ResourceExistsError:
            if create_only:
                return False
            raise
        return True

    def write_json(self, name: str, value: Any, *, indent: str | None = None, create_only: bool = False) -> bool:
        return self.write(name, dumps(value, indent=indent), create_only=create_only)

    def upload_file(self, name: str, source: str | Path) -> str:
        """Stream one file to `name` (compressed names lose `.gz`); returns the stored name."""
        stored, settings = self._settings(name)
        path = Path(source)
        with path.open("rb") as stream:
            self.container.upload_blob(stored, stream, length=path.stat().st_size, overwrite=True,
                                       content_settings=settings, max_concurrency=FILE_CONCURRENCY)
        return stored

    def upload_tree(self, root: str | Path, prefix: str) -> list[str]:
        """Upload every file under `root` (nested folders kept) to `prefix/<relative path>`."""
        uploads = [Upload(f"{prefix}/{path.relative_to(root).as_posix()}", path)
                   for path in sorted(Path(root).rglob("*")) if path.is_file()]
        return self.upload_all(uploads)

    def upload_all(self, uploads: Iterable[Upload]) -> list[str]:
        uploads = list(uploads)
        if len(uploads) <= 1:
            return [self.upload_file(u.name, u.source) for u in uploads]
        with ThreadPoolExecutor(max_workers=min(TREE_WORKERS, len(uploads))) as pool:
            return list(pool.map(lambda u: self.upload_file(u.name, u.source), uploads))

    # -- reading (tests, the reconciler, the dashboard builder) --------------------------------

    def exists(self, name: str) -> bool:
        return self.container.get_blob_client(name).exists()

    def read(self, name: str) -> bytes:
        return self.container.download_blob(name).readall()

    def read_json(self, name: str) -> Any:
        import json
        return json.loads(self.read(name))

    def names(self, prefix: str = "") -> list[str]:
        return sorted(b.name for b in self.container.list_blobs(name_starts_with=prefix or None))
