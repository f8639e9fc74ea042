"""The dashboard's JSON indexes on Azurite: what each shard holds after state changes, that a repeat
writes nothing, and that concurrent writers lose no update (ETag conditional writes)."""
from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest

from shared.dashboard.index import (MANIFEST, DashboardIndex, history_shard, hour_shard, pr_shard,
                                    publish_job)
from shared.dashboard.site import publish_site
from tests.dashboard import harness


@pytest.fixture
def index(azurite, unique_name):
    clients = harness.clients_for(azurite.connection_string)
    return DashboardIndex(clients, container=unique_name("web"), now=lambda: harness.NOW)


def job(i, **kw):
    kw.setdefault("state", "pending")
    return harness.make_job(i, rng=random.Random(i), spread_hours=1, **kw)


def test_a_state_change_moves_the_job_in_every_index(index):
    j = job(1, job_type="presubmit", job_name="unit", repo="baremetal-operator", pr=77)
    publish_job(j, index=index)
    hour = j.status["startTime"][:13].replace("-", "").replace("T", "")
    manifest, _ = index.read(MANIFEST)
    assert manifest["hours"][hour]["states"] == {"pending": 1}
    j.set_state("failure", "Job failed.")
    publish_job(j, index=index)
    shard, _ = index.read(hour_shard(hour))
    assert shard["jobs"][j.name]["state"] == "failure"
    assert shard["jobs"][j.name]["view"] == "s3/prow-logs/" + harness.run_dir(j)
    manifest, _ = index.read(MANIFEST)
    assert manifest["hours"][hour] == {"seq": shard["seq"], "count": 1, "states": {"failure": 1}}
    history, _ = index.read(history_shard("unit"))
    assert history["runs"][j.name]["state"] == "failure"
    pr, _ = index.read(pr_shard("metal3-io", "baremetal-operator", 77))
    assert pr["runs"][j.name]["pulls"][0]["number"] == 77


def test_publishing_the_same_state_again_writes_nothing(index):
    j = job(2, job_type="periodic", job_name="periodic-clean")
    publish_job(j, index=index)
    hour = j.status["startTime"][:13].replace("-", "").replace("T", "")
    before = [index.read(name)[1] for name in (MANIFEST, hour_shard(hour), history_shard("periodic-clean"))]
    publish_job(j, index=index)
    after = [index.read(name)[1] for name in (MANIFEST, hour_shard(hour), history_shard("periodic-clean"))]
    assert before == after


def test_concurrent_writers_lose_no_update(index):
    writers, per_writer = 8, 6
    jobs = [[job(100 + w * per_writer + k, job_type="presubmit", job_name="e2e-test", repo="ironic-image", pr=5)
             for k in range(per_writer)] for w in range(writers)]
    for batch in jobs:       # all in one hour shard, one history and one PR file
        for j in batch:
            j.status["startTime"] = harness.NOW.strftime("%Y-%m-%dT%H:00:00Z")
    barrier = threading.Barrier(writers)
    errors = []

    def write(batch):
        barrier.wait()
        try:
            for j in batch:
                publish_job(j, index=index)
        except Exception as exc:       # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(b,)) for b in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    names = {j.name for batch in jobs for j in batch}
    hour = harness.NOW.strftime("%Y%m%d%H")
    shard, _ = index.read(hour_shard(hour))
    assert set(shard["jobs"]) == names
    assert shard["seq"] == len(names)
    manifest, _ = index.read(MANIFEST)
    assert manifest["hours"][hour]["count"] == len(names)
    assert set(index.read(history_shard("e2e-test"))[0]["runs"]) == names
    assert set(index.read(pr_shard("metal3-io", "ironic-image", 5))[0]["runs"]) == names


def test_history_keeps_the_newest_runs_and_the_manifest_the_retained_hours(index):
    index.history_limit = 3
    runs = [job(200 + k, job_type="postsubmit", job_name="publish-images") for k in range(5)]
    for k, j in enumerate(runs):
        j.status["startTime"] = (harness.NOW - timedelta(minutes=10 * (5 - k))).strftime("%Y-%m-%dT%H:%M:%SZ")
    index.publish_jobs(runs)
    assert set(index.read(history_shard("publish-images"))[0]["runs"]) == {j.name for j in runs[2:]}
    old = job(300, job_type="periodic", job_name="periodic-e2e-main")
    old.status["startTime"] = (harness.NOW - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
    index.publish_jobs([old])
    assert (harness.NOW - timedelta(days=9)).strftime("%Y%m%d%H") not in index.read(MANIFEST)[0]["hours"]


def test_publish_site_sets_the_content_types_and_the_error_document(azurite, unique_name):
    clients = harness.clients_for(azurite.connection_string)
    container = unique_name("site")
    written = publish_site(clients, container=container, artifacts_url="https://acct.blob.core.windows.net/")
    assert {"index.html", "404.html", "static/app.js", "static/app.css", "data/site.json"} <= set(written)
    c = clients.blob().get_container_client(container)
    types = {n: c.get_blob_client(n).get_blob_properties().content_settings.content_type
             for n in ("index.html", "404.html", "static/app.js", "static/app.css", "data/site.json")}
    assert types == {"index.html": "text/html; charset=utf-8", "404.html": "text/html; charset=utf-8",
                     "static/app.js": "text/javascript; charset=utf-8", "static/app.css": "text/css; charset=utf-8",
                     "data/site.json": "application/json"}
    assert c.download_blob("404.html").readall() == c.download_blob("index.html").readall()
    assert b'"artifacts": "https://acct.blob.core.windows.net"' in c.download_blob("data/site.json").readall()


def test_cli_publish_dashboard_uploads_the_site(storage_env, capsys):
    from shared.cli import main
    assert main(["publish-dashboard"]) == 0
    assert "published" in capsys.readouterr().out


def test_the_reconciler_publishes_the_jobs_a_tick_changed(storage_env, monkeypatch):
    from shared import reconciler
    from shared.dashboard.index import publish_changed
    from shared.storage import WEB_CONTAINER
    monkeypatch.setattr(reconciler, "_default", None)
    assert reconciler.default_reconciler().on_changed is publish_changed
    j = job(400, job_type="periodic", job_name="periodic-e2e-main", state="success")
    publish_changed([j])
    doc, _ = DashboardIndex(harness.clients_for(storage_env), container=WEB_CONTAINER).read(
        history_shard("periodic-e2e-main"))
    assert doc["runs"][j.name]["state"] == "success"
