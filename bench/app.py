"""The whole app wired for a benchmark, as tests/appenv.py wires it for a test: Azurite, a fake GitHub,
config files, signed deliveries into the registered `hook`, messages handed to `dispatch_message`."""
from __future__ import annotations

import base64
import os
import uuid
from pathlib import Path

from bench.common import app_functions
from tests import webhooks

SECRET = "bench-secret"
CONFIG_YAML = "prowjob_namespace: prow\npod_namespace: test-pods\n"
PLUGINS_YAML = "plugins:\n  org:\n    plugins: [help, shrug]\n"


class App:
    def __init__(self, conn: str, gh, config_dir: Path, *, plugins: str = PLUGINS_YAML, config: str = CONFIG_YAML,
                 config_path: Path | None = None, plugins_path: Path | None = None, job_config: Path | None = None):
        from azure.storage.queue import QueueClient

        if config_path is None:
            config_path = config_dir / "config.yaml"
            config_path.write_text(config)
        if plugins_path is None:
            plugins_path = config_dir / "plugins.yaml"
            plugins_path.write_text(plugins)
        os.environ.update({"PROW_STORAGE": conn, "PROW_HMAC_SECRET": SECRET, "GITHUB_API_URL": gh.url,
                           "GITHUB_TOKEN": gh.token, "PROW_CONFIG_PATH": str(config_path),
                           "PROW_PLUGIN_CONFIG_PATH": str(plugins_path)})
        if job_config is not None:
            os.environ["PROW_JOB_CONFIG_PATH"] = str(job_config)
        else:
            os.environ.pop("PROW_JOB_CONFIG_PATH", None)
        for name in ("GITHUB_APP_ID", "GITHUB_APP_PRIVATE_KEY"):
            os.environ.pop(name, None)
        self.functions = app_functions()
        self.queue = QueueClient.from_connection_string(conn, "webhook-events")
        try:
            self.queue.create_queue()
        except Exception:
            self.queue.clear_messages()

    def post(self, event: str, payload: dict) -> None:
        import azure.functions as func

        body = webhooks.json_body(payload)
        headers = webhooks.headers(event, body, SECRET, delivery=str(uuid.uuid4()))
        req = func.HttpRequest(method="POST", url="http://localhost/api/hook", headers=headers, params={},
                               route_params={}, body=body)
        resp = self.functions["hook"].get_user_function()(req)
        assert resp.status_code == 200, resp.get_body()

    def take_messages(self) -> list[str]:
        """Every queued delivery message, decoded as the host's base64 trigger decodes it."""
        out = []
        while True:
            batch = list(self.queue.receive_messages(messages_per_page=32, max_messages=32))
            if not batch:
                return out
            for m in batch:
                out.append(base64.b64decode(m.content).decode())
                self.queue.delete_message(m)

    def deliver(self, event: str, payload: dict) -> list:
        """Post one delivery and dispatch it; returns the dispatch results."""
        from shared.dispatch import dispatch_message

        self.post(event, payload)
        results = [dispatch_message(text) for text in self.take_messages()]
        assert all(r.outcome == "done" for r in results), results
        return results


def classify(log) -> dict:
    """GitHub requests of a fake's log: all, those that count against the rate limit, free 304s."""
    counted = [r for r in log if r.status != 304]
    graphql = sum(r.path.endswith("/graphql") for r in log)
    return {"total": len(log), "rate_limited": len(counted), "revalidations_304": len(log) - len(counted),
            "graphql": graphql, "rest": len(log) - graphql,
            "writes": sum(r.method != "GET" and not r.path.endswith("/graphql") for r in log),
            "requests": [f"{r.method} {r.path} -> {r.status}" for r in log]}
