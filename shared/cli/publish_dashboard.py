"""Upload the dashboard (dashboard/) to the `$web` container, with its settings in data/site.json.

    python -m shared.cli publish-dashboard [--artifacts-url URL] [--plugin-help-url URL]
        [--plugin-help-from-config] [--static-website] [--connection-string CS]
"""
from __future__ import annotations

import argparse
import sys

from shared import storage


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m shared.cli publish-dashboard", description=__doc__.split("\n\n")[0])
    p.add_argument("--connection-string", help="storage connection string (default: the PROW_STORAGE setting)")
    p.add_argument("--artifacts-url", default="",
                   help="base URL of the artifact containers as the browser reaches them "
                        "(default: the blob endpoint of the app's storage)")
    p.add_argument("--plugin-help-url", default="",
                   help="the plugin_help function's URL; without it the site reads data/plugin-help.json")
    p.add_argument("--plugin-help-from-config", action="store_true",
                   help="build the plugin help from the app's configuration and publish data/plugin-help.json")
    p.add_argument("--static-website", action="store_true",
                   help="also turn on the account's static website (index.html, error document 404.html)")
    args = p.parse_args(argv)
    try:
        settings = (storage.StorageSettings(connection_string=args.connection_string) if args.connection_string
                    else storage.StorageSettings.from_env())
    except storage.StorageConfigError as exc:
        print(f"publish-dashboard: {exc}", file=sys.stderr)
        return 2
    from azure.core.exceptions import AzureError

    from shared.dashboard.site import publish_site
    clients = storage.StorageClients(settings)
    help_doc = None
    if args.plugin_help_from_config:
        from shared.config.source import get_config
        from shared.plugin_help import build_help
        help_doc = build_help(get_config())
    try:
        artifacts = args.artifacts_url or clients.blob().url.rstrip("/")
        written = publish_site(clients, artifacts_url=artifacts, plugin_help_url=args.plugin_help_url,
                               plugin_help=help_doc, static_website=args.static_website)
    except AzureError as exc:
        print(f"publish-dashboard: storage unreachable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}",
              file=sys.stderr)
        return 1
    print(f"published {len(written)} files to {storage.WEB_CONTAINER} (artifacts from {artifacts})")
    return 0
