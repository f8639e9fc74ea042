"""Dispatch benchmarks (the dispatch issue): GitHub requests per `/help`, and dispatch throughput.

Both run the real app: signed deliveries go into the registered `hook` function, the stored
messages are handed to `dispatch_message` (what the `dispatch` queue function calls), plugins talk
to the fake GitHub over HTTP through the one GitHub client, whose ETag cache lives in Azurite.

* `/help` requests: what the fake GitHub logged for one `/help` on an issue, split into requests that
  count against the rate limit and 304 revalidations (free), with a cold cache (nothing read before)
  and a warm one (the issue's labels were read by an earlier command that changed nothing).
* throughput: comments without a command (the common case: most comments are conversation) must
  make no GitHub request; events per second of `dispatch_message`, serially, against the floor of
  the storage work any at-least-once dispatcher must do per event with the bare SDKs (read the
  stored body, insert the dedupe record, mark it done).
"""
from __future__ import annotations

import tempfile
import time
import uuid
from pathlib import Path

from bench.app import App, classify
from bench.common import alternate, summary
from tests import payloads, webhooks

REPO = "org/repo"


def help_requests(conn: str) -> dict:
    from shared.dispatch import dispatch_message
    from tests.fakes.github import FakeGitHub

    with FakeGitHub() as gh, tempfile.TemporaryDirectory() as tmp:
        app = App(conn, gh, Path(tmp))
        gh.add_repo(REPO)
        out = {}
        for case in ("cold", "warm"):
            number = gh.add_issue(REPO, author="alice")
            if case == "warm":  # an earlier command that reads the labels and changes nothing
                app.post("issue_comment", payloads.issue_comment(REPO, number, "/remove-help", commenter="bob"))
                for text in app.take_messages():
                    dispatch_message(text)
            gh.clear_log()
            app.post("issue_comment", payloads.issue_comment(REPO, number, "/help", commenter="bob"))
            for text in app.take_messages():
                result = dispatch_message(text)
                assert result.outcome == "done", result
            out[case] = classify(gh.log)
            assert gh.labels(REPO, number) == ["help wanted"]
        return out


def throughput(conn: str, events: int) -> dict:
    from azure.data.tables import TableServiceClient, UpdateMode
    from azure.storage.blob import BlobServiceClient

    from shared.dispatch import dispatch_message
    from tests.fakes.github import FakeGitHub

    with FakeGitHub() as gh, tempfile.TemporaryDirectory() as tmp:
        app = App(conn, gh, Path(tmp))
        gh.add_repo(REPO)
        number = gh.add_issue(REPO, author="alice")
        for i in range(events + 10):
            app.post("issue_comment", payloads.issue_comment(REPO, number, f"Thanks, that fixed it ({i}).",
                                                             commenter="bob"))
        messages = app.take_messages()
        bodies = [webhooks.json_body(payloads.issue_comment(REPO, number, "plain text", commenter="bob"))] * len(messages)
        gh.clear_log()

        blobs = BlobServiceClient.from_connection_string(conn).get_container_client("webhooks")
        names = [b.name for b in blobs.list_blobs()][: len(messages)]
        table = TableServiceClient.from_connection_string(conn).get_table_client("benchfloor")
        try:
            table.create_table()
        except Exception:
            pass
        pending = iter(messages)
        floor_names = iter(names * 2)
        del bodies

        def one_dispatch() -> float:
            text = next(pending)
            started = time.perf_counter()
            result = dispatch_message(text)
            elapsed = time.perf_counter() - started
            assert result.outcome == "done", result
            return elapsed

        def one_floor() -> float:
            name = next(floor_names)
            key = str(uuid.uuid4())
            started = time.perf_counter()
            blobs.get_blob_client(name).download_blob().readall()
            table.create_entity({"PartitionKey": key[:2], "RowKey": key, "state": "running"})
            table.update_entity({"PartitionKey": key[:2], "RowKey": key, "state": "done"}, mode=UpdateMode.MERGE)
            return time.perf_counter() - started

        for _ in range(10):
            one_dispatch(), one_floor()
        ta, tb, ratios = alternate(one_dispatch, one_floor, events)
        assert gh.log == [], f"comments without a command made GitHub requests: {gh.log[:3]}"
        med = summary(ta)["median"]
        return {"events": events, "dispatch": summary(ta), "floor": summary(tb),
                "events_per_second": 1 / med, "floor_events_per_second": 1 / summary(tb)["median"],
                "ratio_median": med / summary(tb)["median"], "pairwise_ratio": summary(ratios),
                "github_requests": len(gh.log)}
