"""`init-storage`: create the queues, containers and table the app uses (idempotent).

In Azure the infrastructure creates them; locally `make run` calls this against Azurite.
"""
from __future__ import annotations

import argparse
import sys

from shared import storage

QUEUES = (storage.WEBHOOK_EVENTS_QUEUE, storage.PROWJOBS_QUEUE)
CONTAINERS = (storage.WEBHOOKS_CONTAINER, storage.WEB_CONTAINER)
TABLES = (storage.PROWJOBS_TABLE, storage.DELIVERIES_TABLE)


def ensure(clients: storage.StorageClients, *, containers=CONTAINERS, queues=QUEUES, tables=TABLES) -> list[str]:
    """Create what is missing; returns the names created."""
    from azure.core.exceptions import ResourceExistsError

    created = []
    for name in containers:
        try:
            clients.blob().create_container(name)
            created.append(f"container {name}")
        except ResourceExistsError:
            pass
    for name in queues:
        try:
            clients.queue().create_queue(name)
            created.append(f"queue {name}")
        except ResourceExistsError:
            pass
    for name in tables:
        try:
            clients.table().create_table(name)
            created.append(f"table {name}")
        except ResourceExistsError:
            pass
    return created


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m shared.cli init-storage", description=__doc__.split("\n\n")[0])
    p.add_argument("--connection-string", help="storage connection string (default: the PROW_STORAGE setting)")
    args = p.parse_args(argv)
    try:
        settings = (storage.StorageSettings(connection_string=args.connection_string) if args.connection_string
                    else storage.StorageSettings.from_env())
    except storage.StorageConfigError as exc:
        print(f"init-storage: {exc}", file=sys.stderr)
        return 2
    from azure.core.exceptions import AzureError
    try:
        created = ensure(storage.StorageClients(settings))
    except AzureError as exc:
        print(f"init-storage: storage unreachable: {exc.__class__.__name__}: {str(exc).splitlines()[0]}",
              file=sys.stderr)
        return 1
    print("created: " + ", ".join(created) if created else "storage already initialised")
    return 0
