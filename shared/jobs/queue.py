"""The `prowjobs` queue: one message per job to launch, `{"id": "<job id>"}` (base64, as the host reads)."""
from __future__ import annotations

import json

from shared.storage import PROWJOBS_QUEUE, StorageClients

MAX_VISIBILITY_DELAY = 7 * 24 * 3600 - 1     # what Azure Queue storage accepts


def launch_message(job_id: str) -> str:
    return json.dumps({"id": job_id})


def parse_launch_message(text: str | bytes) -> str:
    """The job id of a message: `{"id": ...}` or a bare id."""
    text = text.decode("utf-8") if isinstance(text, bytes) else text
    text = text.strip()
    if text.startswith("{"):
        value = json.loads(text).get("id")
        if not isinstance(value, str) or not value:
            raise ValueError("a prowjobs message needs a string `id`")
        return value
    if not text:
        raise ValueError("empty prowjobs message")
    return text


class JobQueue:
    def __init__(self, clients: StorageClients, *, queue: str = PROWJOBS_QUEUE):
        self.clients = clients
        self.queue_name = queue
        self._client = None

    def client(self):
        if self._client is None:
            self._client = self.clients.queue_client(self.queue_name)
        return self._client

    def enqueue(self, job_id: str, *, delay: int = 0) -> None:
        from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
        delay = max(0, min(int(delay), MAX_VISIBILITY_DELAY))
        try:
            self.client().send_message(launch_message(job_id), visibility_timeout=delay or None)
        except ResourceNotFoundError:
            try:
                self.client().create_queue()
            except ResourceExistsError:
                pass
            self.client().send_message(launch_message(job_id), visibility_timeout=delay or None)
