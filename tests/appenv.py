"""The whole app wired for a test: Azurite storage, a fake GitHub, config files, the Functions host.

    def test_story(prow):                                 # the `prow` fixture (import it in the test module)
        prow.gh.add_repo("org/repo"); n = prow.gh.add_issue("org/repo", author="alice")
        prow.post("issue_comment", payloads.issue_comment("org/repo", n, "/help", commenter="bob"))
        prow.settle()
        assert prow.gh.labels("org/repo", n) == ["help wanted"]

`post` signs and sends a delivery to the real `hook` function; `settle` runs `dispatch` (and any other
queue function) over the Azurite queues until nothing is left; `plugins_yaml` rewrites plugins.yaml and
makes the app's config source read it again.
"""
from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests import webhooks
from tests.fakes.github import FakeGitHub

SECRET = "app-test-secret"
CONFIG_YAML = "prowjob_namespace: prow\npod_namespace: test-pods\n"
DEFAULT_PLUGINS = "plugins:\n  org:\n    plugins: [help, shrug]\n"


@dataclass
class ProwApp:
    gh: FakeGitHub
    host: Any
    call_http: Any
    config_dir: Path
    connection_string: str
    posted: list[dict] = field(default_factory=list)

    def plugins_yaml(self, text: str) -> None:
        (self.config_dir / "plugins.yaml").write_text(text)
        from shared.config.source import default_source
        default_source().refresh()

    def post(self, event: str, payload: dict | bytes, *, delivery: str | None = None, form: bool = False,
             expect: int = 200, secret: str = SECRET) -> dict:
        """Sign and POST one delivery to `hook`; returns the headers sent (with the delivery id)."""
        if isinstance(payload, bytes):
            body = payload
        else:
            body = webhooks.form_body(payload) if form else webhooks.json_body(payload)
        headers = webhooks.headers(event, body, secret, delivery=delivery or str(uuid.uuid4()),
                                   content_type="application/x-www-form-urlencoded" if form else "application/json")
        resp = self.call_http("hook", headers=headers, body=body)
        assert resp.status_code == expect, resp.get_body()
        self.posted.append({"headers": headers, "body": body})
        return headers

    def settle(self, **kwargs):
        kwargs.setdefault("timeout", 60.0)
        return self.host.settle(**kwargs)

    def record(self, delivery_id: str):
        from shared.ledger import DeliveryLedger
        from shared.storage import default_clients
        return DeliveryLedger(default_clients()).get(delivery_id)

    def queued(self) -> list[dict]:
        return [json.loads(m) for m in self.host.messages("webhook-events")]


@pytest.fixture
def prow(webhook_queue, app_functions, call_http, tmp_path, monkeypatch):
    from tests.host import FunctionsHost

    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / "config.yaml").write_text(CONFIG_YAML)
    (config_dir / "plugins.yaml").write_text(DEFAULT_PLUGINS)
    with FakeGitHub() as gh:
        monkeypatch.setenv("PROW_HMAC_SECRET", SECRET)
        monkeypatch.setenv("PROW_CONFIG_PATH", str(config_dir / "config.yaml"))
        monkeypatch.setenv("PROW_PLUGIN_CONFIG_PATH", str(config_dir / "plugins.yaml"))
        monkeypatch.delenv("PROW_JOB_CONFIG_PATH", raising=False)
        monkeypatch.setenv("GITHUB_API_URL", gh.url)
        monkeypatch.setenv("GITHUB_TOKEN", gh.token)
        for name in ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"):
            monkeypatch.delenv(name, raising=False)
        host = FunctionsHost(app_functions, webhook_queue)
        yield ProwApp(gh=gh, host=host, call_http=call_http, config_dir=config_dir,
                      connection_string=webhook_queue)


def empty_job_storage():
    """An empty `prowjobs` queue, the job Table, and no global slots held (plank's global limit is
    shared by every test). Returns (JobStore, JobQueue)."""
    from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
    from shared.jobs.queue import JobQueue
    from shared.jobs.store import LIMITS, JobStore
    from shared.storage import default_clients

    clients = default_clients()
    queue = JobQueue(clients)
    try:
        queue.client().create_queue()
    except ResourceExistsError:
        queue.client().clear_messages()
    store = JobStore(clients)
    store.ensure_table()
    try:
        store.table().delete_entity(LIMITS, "global")
    except ResourceNotFoundError:
        pass
    return store, queue


@contextmanager
def build_cluster(tmp_path: Path, monkeypatch):
    """`empty_job_storage()` and a fake Kubernetes API as the `default` cluster of PROW_KUBECONFIG
    (launch retries after 1 s): what job-starting stories need. Yields the FakeKube."""
    from shared import launcher
    from tests.fakes.kube import FakeKube, write_kubeconfig

    empty_job_storage()
    with FakeKube(token="k") as kube:
        monkeypatch.setenv("PROW_KUBECONFIG", str(write_kubeconfig(tmp_path / "kubeconfig", {"default": kube})))
        monkeypatch.setattr(launcher.default_launcher(), "wait_seconds", 1)
        yield kube
