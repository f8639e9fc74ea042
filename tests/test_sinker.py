"""Sinker on Azurite and the fake Kubernetes API: which records and pods go, which stay."""
from __future__ import annotations

import logging
import textwrap
from datetime import timedelta

import pytest

from shared.config.loader import load_config
from shared.jobs.create import new_prowjob, pull_refs
from shared.jobs.model import CREATED_BY_PROW, FAILURE, ID_LABEL, PENDING, SUCCESS, format_time, utc_now
from shared.jobs.store import JobStore
from shared.kube.clusters import Clusters
from shared.sinker import Sinker, snowflake_at
from shared.storage import StorageClients, StorageSettings
from tests.fakes.kube import FakeKube, write_kubeconfig

POD_SPEC = {"containers": [{"name": "test", "image": "alpine"}]}


@pytest.fixture
def store(azurite, unique_name):
    s = JobStore(StorageClients(StorageSettings(connection_string=azurite.connection_string)),
                 table=unique_name("sinker"))
    s.ensure_table()
    return s


@pytest.fixture
def config(tmp_path):
    (tmp_path / "config.yaml").write_text(textwrap.dedent("""\
        prowjob_namespace: prow
        pod_namespace: test-pods
        sinker:
          max_prowjob_age: 24h
          max_pod_age: 2h
          terminated_pod_ttl: 30m
        """))
    (tmp_path / "jobs.yaml").write_text(textwrap.dedent("""\
        periodics:
        - name: nightly
          interval: 24h
          spec: {containers: [{image: alpine}]}
        """))
    loaded = load_config(str(tmp_path / "config.yaml"), str(tmp_path / "jobs.yaml"))
    assert loaded.ok
    return loaded


class Records:
    def __init__(self, store: JobStore):
        self.store = store
        self.n = 0

    def add(self, name: str, *, age: timedelta, finished_after: timedelta | None = None, kind: str = "presubmit",
            state: str = SUCCESS, pull: int = 1, now=None):
        """A job created `age` before `now`, finished `finished_after` later (None: still running)."""
        now = now or utc_now()
        started = now - age
        spec = {"type": kind, "agent": "kubernetes", "cluster": "default", "namespace": "test-pods", "job": name}
        if kind == "presubmit":
            spec["refs"] = pull_refs("org", "repo", base_ref="main", base_sha="b" * 40, number=pull, sha="a" * 40)
        job = new_prowjob(spec, namespace="prow", now=started)
        self.n += 1
        job.created = str(int(snowflake_at(started)) + self.n)
        if finished_after is None:
            job.status["state"] = PENDING
        else:
            job.set_state(state, now=started + finished_after)
        return self.store.create(job)


def pod(name: str, *, job_id: str | None = None, prow: bool = True) -> dict:
    labels = {CREATED_BY_PROW: "true"} if prow else {"app": "other"}
    if job_id:
        labels[ID_LABEL] = job_id
    return {"metadata": {"name": name, "labels": labels}, "spec": POD_SPEC}


def test_old_records_go_except_unfinished_ones_and_the_newest_run_of_each_configured_periodic(store, config):
    records = Records(store)
    old_done = records.add("unit", age=timedelta(days=2), finished_after=timedelta(minutes=5), pull=4)
    old_running = records.add("unit", age=timedelta(days=2), pull=5)
    new_done = records.add("unit", age=timedelta(hours=3), finished_after=timedelta(minutes=5))
    nightly = [records.add("nightly", kind="periodic", age=timedelta(days=d), finished_after=timedelta(hours=1),
                           state=FAILURE) for d in (5, 4, 3)]
    removed = [records.add("gone-from-config", kind="periodic", age=timedelta(days=d),
                           finished_after=timedelta(hours=1)) for d in (3, 2)]
    sinker = Sinker(store=store, clusters=Clusters(), config=lambda: config)

    result = sinker.run()

    assert store.find(old_done.name) is None and store.for_pull("org/repo", 4) == []
    assert store.find(old_running.name) is not None and store.find(new_done.name) is not None
    assert [j.name for j in store.history("nightly")] == [nightly[-1].name]     # newest of a configured periodic
    assert all(store.find(j.name) is None for j in removed)
    assert result.records_deleted == 1 + 2 + 2 and result.records_kept == 1
    assert sinker.run().records_deleted == 0                                    # nothing left to do


def test_a_backlog_is_worked_off_over_several_bounded_runs(store, config, caplog):
    records = Records(store)
    jobs = [records.add("unit", age=timedelta(days=3, minutes=i), finished_after=timedelta(minutes=1), pull=i)
            for i in range(23)]
    sinker = Sinker(store=store, clusters=Clusters(), config=lambda: config, max_records=5)
    runs = []
    with caplog.at_level(logging.INFO, logger="prow.sinker"):
        for _ in range(6):
            runs.append(sinker.run())
    assert [r.records_deleted for r in runs] == [5, 5, 5, 5, 3, 0]
    assert [r.records_left for r in runs] == [True, True, True, True, False, False]
    assert all(store.find(j.name) is None for j in jobs)
    summaries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("sinker: ")]
    assert len(summaries) == 6 and "prowjobs-deleted=5 " in summaries[0]


def test_pods_go_when_aged_ttled_or_orphaned_and_never_while_their_job_runs(store, config, tmp_path):
    records = Records(store)
    with FakeKube(token="k") as kube, FakeKube(token="x") as excluded:
        clusters = Clusters(kubeconfig=str(write_kubeconfig(tmp_path / "kubeconfig",
                                                            {"default": kube, "private": excluded})))
        config.prow.raw["sinker"]["exclude_clusters"] = ["private"]
        now = utc_now()
        finished_long_ago = records.add("unit", age=timedelta(minutes=50), finished_after=timedelta(minutes=5))
        finished_lately = records.add("unit", age=timedelta(minutes=20), finished_after=timedelta(minutes=10))
        running = records.add("unit", age=timedelta(minutes=10))
        waiting = records.add("unit", age=timedelta(minutes=1))
        for job, phase in ((finished_long_ago, "Succeeded"), (finished_lately, "Failed"), (running, "Running")):
            kube.add_pod("test-pods", pod(job.name, job_id=job.name))
            kube.set_phase(job.name, phase)
        kube.add_pod("test-pods", pod(waiting.name))                             # Pending, found by its name
        kube.add_pod("test-pods", pod("no-such-job", job_id="no-such-job"))
        kube.add_pod("test-pods", pod("not-prows", prow=False))
        excluded.add_pod("test-pods", pod("private-orphan"))
        sinker = Sinker(store=store, clusters=clusters, config=lambda: config)

        result = sinker.run(now + timedelta(minutes=5))

        left = {p["metadata"]["name"] for p in kube.pods()}
        assert left == {finished_lately.name, running.name, waiting.name, "not-prows"}
        assert dict(result.pods_deleted) == {"ttled": 1, "orphaned": 1}
        assert [p["metadata"]["name"] for p in excluded.pods()] == ["private-orphan"]

        # three hours on: the pod of the job that finished lately is aged; a running job's pod stays.
        result = sinker.run(now + timedelta(hours=3))
        assert {p["metadata"]["name"] for p in kube.pods()} == {running.name, waiting.name, "not-prows"}
        assert result.pods_deleted["aged"] == 1 and result.pods_kept_running == 2
        assert store.find(finished_lately.name) is not None                      # records are not pods


def test_a_cluster_that_fails_is_logged_and_the_rest_goes_on(store, config, tmp_path):
    records = Records(store)
    with FakeKube(token="k") as kube, FakeKube(token="b") as broken:
        clusters = Clusters(kubeconfig=str(write_kubeconfig(tmp_path / "kubeconfig",
                                                            {"default": kube, "build01": broken})))
        broken.fail("GET", "*", status=500, times=10)
        kube.add_pod("test-pods", pod("orphan"))
        old = records.add("unit", age=timedelta(days=2), finished_after=timedelta(minutes=1))
        result = Sinker(store=store, clusters=clusters, config=lambda: config).run(utc_now() + timedelta(minutes=1))
        assert kube.pods() == [] and store.find(old.name) is None
        assert result.errors and "build01" in result.errors[0]
