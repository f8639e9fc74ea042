"""Upload the static site (dashboard/) to `$web` with the right content types, and its settings.

The storage account's static website serves `index.html` at `/` and `404.html` for every other
path (its error document); both are the same page, which routes by `location`, so Deck's paths
(`/view/...`, `/job-history/...`, `/pr-history?...`, `/tide`, `/command-help`) keep working.
`data/site.json` tells the pages where the artifact containers are (the blob endpoint) and,
optionally, the `plugin_help` function URL.
"""
from __future__ import annotations

import json
import mimetypes
from pathlib import Path

from shared.storage import WEB_CONTAINER, StorageClients

SITE_DIR = Path(__file__).resolve().parent.parent.parent / "dashboard"
SITE_SETTINGS = "data/site.json"
PLUGIN_HELP = "data/plugin-help.json"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".json": "application/json",
                 ".svg": "image/svg+xml", ".png": "image/png", ".ico": "image/x-icon",
                 ".txt": "text/plain; charset=utf-8"}


def content_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    return CONTENT_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def site_files(site_dir: Path = SITE_DIR) -> dict[str, Path]:
    """Blob name → file; `404.html` is `index.html` (the error document routes every path)."""
    files = {p.relative_to(site_dir).as_posix(): p for p in sorted(site_dir.rglob("*")) if p.is_file()}
    if "index.html" not in files:
        raise FileNotFoundError(f"{site_dir}/index.html is missing: is this the dashboard folder?")
    files["404.html"] = files["index.html"]
    return files


def _upload(container, name: str, body: bytes, *, cache: str) -> None:
    from azure.storage.blob import ContentSettings
    container.upload_blob(name, body, overwrite=True,
                          content_settings=ContentSettings(content_type=content_type(name), cache_control=cache))


def publish_site(clients: StorageClients, *, site_dir: Path = SITE_DIR, artifacts_url: str = "",
                 plugin_help_url: str = "", plugin_help: dict | None = None,
                 container: str = WEB_CONTAINER, static_website: bool = False) -> list[str]:
    """Upload the site; returns the blob names written. `static_website` also turns on the
    account's static website with index.html / 404.html (a real account; Azurite has none)."""
    from azure.core.exceptions import ResourceExistsError
    service = clients.blob()
    client = service.get_container_client(container)
    try:
        client.create_container()
    except ResourceExistsError:
        pass
    written = []
    for name, path in site_files(site_dir).items():
        _upload(client, name, path.read_bytes(), cache="no-cache")
        written.append(name)
    settings = {"artifacts": artifacts_url.rstrip("/"), "plugin_help_url": plugin_help_url}
    _upload(client, SITE_SETTINGS, json.dumps(settings).encode(), cache="no-cache")
    written.append(SITE_SETTINGS)
    if plugin_help is not None:
        _upload(client, PLUGIN_HELP, json.dumps(plugin_help, sort_keys=True).encode(), cache="no-cache")
        written.append(PLUGIN_HELP)
    if static_website:
        from azure.storage.blob import StaticWebsite
        service.set_service_properties(static_website=StaticWebsite(
            enabled=True, index_document="index.html", error404_document="404.html"))
    return written
