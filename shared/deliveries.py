"""Durable intake of webhook deliveries: the raw body to Blob, a small pointer message to the queue.

The blob is written create-if-absent under a name derived from `X-GitHub-Delivery`, so a redelivery
is stored once. The message is sent every time (a crash between the two writes must not lose the
event on redelivery); `dispatch` deduplicates by delivery id, so a second message has no effect.
The message carries what routing needs and the original headers (for external plugins), never the
payload, so it stays far below the 64 KiB queue limit whatever the payload size (GitHub sends up
to 25 MB).
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from dataclasses import dataclass

from shared.storage import WEBHOOK_EVENTS_QUEUE, WEBHOOKS_CONTAINER, StorageClients
from shared.webhook import Delivery

log = logging.getLogger("prow.hook")

MESSAGE_VERSION = 1
# Base64 (what the Functions queue trigger expects) grows text by 4/3; keep the JSON under
# 48 KiB so the encoded message stays under the 64 KiB limit.
MAX_MESSAGE_BYTES = 48 * 1024
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class StorageUnavailable(Exception):
    """The delivery could not be made durable; the caller must not acknowledge it."""


def blob_name(delivery_id: str) -> str:
    """A blob name for a delivery id: the id itself when it is a plain token (GitHub sends GUIDs)."""
    if _SAFE_ID.match(delivery_id):
        return delivery_id
    return "x-" + hashlib.sha256(delivery_id.encode()).hexdigest()


@dataclass(frozen=True)
class DeliveryMessage:
    """The queue message that points `dispatch` at a stored delivery."""

    delivery_id: str
    event: str
    action: str
    repo: str
    org: str
    installation_id: int | None
    container: str
    blob: str
    content_type: str
    size: int
    received_at: float
    headers: dict
    number: int | None = None    # issue or pull request number, for log lines

    def to_json(self) -> str:
        return json.dumps({
            "v": MESSAGE_VERSION, "delivery": self.delivery_id, "event": self.event,
            "action": self.action, "repo": self.repo, "org": self.org,
            "installation": self.installation_id, "container": self.container, "blob": self.blob,
            "content_type": self.content_type, "size": self.size, "received_at": self.received_at,
            "headers": self.headers, "number": self.number,
        }, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> "DeliveryMessage":
        d = json.loads(text)
        if d.get("v") != MESSAGE_VERSION:
            raise ValueError(f"unknown delivery message version {d.get('v')!r}")
        return cls(delivery_id=d["delivery"], event=d["event"], action=d.get("action", ""),
                   repo=d.get("repo", ""), org=d.get("org", ""), installation_id=d.get("installation"),
                   container=d["container"], blob=d["blob"], content_type=d.get("content_type", ""),
                   size=d.get("size", 0), received_at=d.get("received_at", 0.0),
                   headers=d.get("headers") or {}, number=d.get("number"))


def message_for(delivery: Delivery, *, container: str = WEBHOOKS_CONTAINER,
                received_at: float | None = None) -> DeliveryMessage:
    msg = DeliveryMessage(
        delivery_id=delivery.delivery_id, event=delivery.event, action=delivery.action,
        repo=delivery.repo_full_name, org=delivery.org, installation_id=delivery.installation_id,
        container=container, blob=blob_name(delivery.delivery_id), content_type=delivery.content_type,
        size=len(delivery.body), received_at=time.time() if received_at is None else received_at,
        headers=dict(delivery.headers), number=delivery.number)
    if len(msg.to_json().encode()) > MAX_MESSAGE_BYTES:  # only oversized headers could do this
        msg = DeliveryMessage(**{**msg.__dict__, "headers": {}})
    return msg


class DeliveryStore:
    """Writes deliveries durably and reads them back (for dispatch)."""

    def __init__(self, clients: StorageClients, *, container: str = WEBHOOKS_CONTAINER,
                 queue: str = WEBHOOK_EVENTS_QUEUE):
        self.clients = clients
        self.container = container
        self.queue = queue
        self._queue_client = None

    def _container_client(self):
        return self.clients.blob().get_container_client(self.container)

    def _queue(self):
        if self._queue_client is None:
            self._queue_client = self.clients.queue_client(self.queue)
        return self._queue_client

    def accept(self, delivery: Delivery) -> tuple[DeliveryMessage, bool]:
        """Store the body and enqueue the message. Returns (message, first_time).

        Raises StorageUnavailable when either write fails, so the hook answers 5xx and GitHub
        keeps the delivery for a redelivery.
        """
        from azure.core.exceptions import AzureError, ResourceExistsError, ResourceNotFoundError
        from azure.storage.blob import ContentSettings

        msg = message_for(delivery, container=self.container)
        blob = self._container_client().get_blob_client(msg.blob)
        metadata = {"event": delivery.event, "delivery": blob_name(delivery.delivery_id),
                    "headers": json.dumps(delivery.headers, ensure_ascii=True, separators=(",", ":"))}
        settings = ContentSettings(content_type=delivery.content_type or "application/json")
        first = True
        try:
            try:
                blob.upload_blob(delivery.body, overwrite=False, metadata=metadata,
                                 content_settings=settings)
            except ResourceNotFoundError:  # container missing (fresh storage): create, then retry once
                self._create_container()
                blob.upload_blob(delivery.body, overwrite=False, metadata=metadata,
                                 content_settings=settings)
        except ResourceExistsError:
            first = False
        except AzureError as exc:
            raise StorageUnavailable(f"storing delivery {delivery.delivery_id}: {exc.__class__.__name__}") from exc
        try:
            try:
                self._queue().send_message(msg.to_json())
            except ResourceNotFoundError:
                self._create_queue()
                self._queue().send_message(msg.to_json())
        except AzureError as exc:
            raise StorageUnavailable(f"queueing delivery {delivery.delivery_id}: {exc.__class__.__name__}") from exc
        return msg, first

    def _create_container(self) -> None:
        from azure.core.exceptions import ResourceExistsError
        try:
            self._container_client().create_container()
        except ResourceExistsError:
            pass

    def _create_queue(self) -> None:
        from azure.core.exceptions import ResourceExistsError
        try:
            self._queue().create_queue()
        except ResourceExistsError:
            pass

    def read_body(self, msg: DeliveryMessage) -> bytes:
        """The stored raw body of a delivery."""
        blob = self.clients.blob().get_container_client(msg.container).get_blob_client(msg.blob)
        return blob.download_blob().readall()
