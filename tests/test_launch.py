"""`launch` through the Functions host stand-in, on Azurite, against the fake Kubernetes API."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.jobs.create import new_prowjob, pull_refs
from shared.jobs.model import ERROR, PENDING, SUCCESS, TRIGGERED
from shared.jobs.queue import JobQueue
from shared.jobs.store import JobStore
from shared.storage import PROWJOBS_QUEUE
from tests.fakes.kube import FakeKube, write_kubeconfig


@dataclass
class LaunchEnv:
    host: object
    kube: FakeKube
    build01: FakeKube
    store: JobStore
    queue: JobQueue
    config: Path

    def job(self, name: str | None = None, *, cluster: str = "default", pull: int = 1, **spec) -> str:
        """Store a triggered job and queue it; returns its id."""
        body = {"type": "presubmit", "agent": "kubernetes", "cluster": cluster, "namespace": "test-pods",
                "job": name or f"unit-{uuid.uuid4().hex[:8]}", "context": "unit",
                "refs": pull_refs("org", "repo", base_ref="main", base_sha="b" * 40, number=pull, sha="a" * 40),
                "pod_spec": {"containers": [{"image": "golang", "command": ["make", "test"]}]}, **spec}
        job = self.store.create(new_prowjob(body, namespace="prow"))
        self.queue.enqueue(job.name)
        return job.name

    def settle(self, **kw):
        kw.setdefault("timeout", 60.0)
        return self.host.settle(functions=["launch"], **kw)

    def pods(self, job_id: str) -> list[dict]:
        return [p for k in (self.kube, self.build01) for p in k.pods() if p["metadata"]["name"] == job_id]

    def finish(self, job_id: str) -> None:
        self.store.modify(job_id, lambda j: j.set_state(SUCCESS, "Job succeeded."))


@pytest.fixture
def launch_env(storage_env, app_functions, tmp_path, monkeypatch):
    from shared import launcher
    from tests.appenv import empty_job_storage
    from tests.host import FunctionsHost

    store, queue = empty_job_storage()
    config = tmp_path / "config.yaml"
    config.write_text("prowjob_namespace: prow\npod_namespace: test-pods\n")
    monkeypatch.setenv("PROW_CONFIG_PATH", str(config))
    monkeypatch.delenv("PROW_JOB_CONFIG_PATH", raising=False)
    monkeypatch.delenv("PROW_PLUGIN_CONFIG_PATH", raising=False)
    monkeypatch.delenv("PROW_AKS_CLUSTERS", raising=False)
    with FakeKube(token="k") as kube, FakeKube(token="b") as build01:
        kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"default": kube, "build01": build01})
        monkeypatch.setenv("PROW_KUBECONFIG", str(kubeconfig))
        monkeypatch.setattr(launcher.default_launcher(), "wait_seconds", 1)
        yield LaunchEnv(FunctionsHost(app_functions, storage_env), kube, build01, store, queue, config)


def plank(env: LaunchEnv, text: str) -> None:
    env.config.write_text("prowjob_namespace: prow\npod_namespace: test-pods\nplank:\n" + text)
    from shared.config.source import default_source
    default_source().refresh()


def test_a_triggered_job_gets_one_pod_and_becomes_pending(launch_env):
    job_id = launch_env.job()
    run = launch_env.settle()
    assert [i.outcome for i in run.calls("launch")] == ["ok"]
    job = launch_env.store.get(job_id)
    assert (job.state, job.description) == (PENDING, "Job triggered.")
    assert job.build_id.isdigit() and job.status["pod_name"] == job_id and job.status["pendingTime"]
    [pod] = launch_env.kube.pods("test-pods")
    labels = pod["metadata"]["labels"]
    assert labels["prow.k8s.io/id"] == job_id and labels["prow.k8s.io/build-id"] == job.build_id
    assert labels["prow.k8s.io/refs.pull"] == "1" and labels["created-by-prow"] == "true"
    assert launch_env.store.history(job.job)[0].name == job_id


def test_a_message_delivered_twice_still_makes_one_pod(launch_env):
    job_id = launch_env.job()
    launch_env.queue.enqueue(job_id)
    launch_env.queue.enqueue(job_id)
    launch_env.settle(parallel=True)
    assert len(launch_env.pods(job_id)) == 1
    assert launch_env.store.get(job_id).state == PENDING


def test_a_redelivery_after_a_lost_answer_finds_the_pod_and_moves_on(launch_env):
    job_id = launch_env.job()
    launch_env.kube.fail("POST", "/api/v1/namespaces/test-pods/pods", status=500, applied=True)
    run = launch_env.settle()
    assert [i.outcome for i in run.calls("launch")] == ["retry", "ok"]
    assert [r.status for r in launch_env.kube.find("POST")] == [500, 409]
    [pod] = launch_env.pods(job_id)
    job = launch_env.store.get(job_id)
    assert job.state == PENDING and pod["metadata"]["labels"]["prow.k8s.io/build-id"] == job.build_id


def test_cluster_errors_and_timeouts_are_retried_by_the_host(launch_env):
    job_id = launch_env.job()
    launch_env.kube.fail("POST", "/api/v1/namespaces/test-pods/pods", status=503)
    launch_env.kube.fail_timeout("POST", "/api/v1/namespaces/test-pods/pods", delay=0.3)
    run = launch_env.settle()
    assert [i.outcome for i in run.calls("launch")] == ["retry", "retry", "ok"]
    assert len(launch_env.pods(job_id)) == 1
    assert launch_env.store.get(job_id).state == PENDING


def test_a_job_on_another_cluster_runs_there(launch_env):
    job_id = launch_env.job(cluster="build01")
    launch_env.settle()
    assert [p["metadata"]["name"] for p in launch_env.build01.pods()] == [job_id]
    assert launch_env.kube.pods() == []


def test_a_job_for_a_cluster_that_does_not_exist_ends_in_error(launch_env):
    job_id = launch_env.job(cluster="gpu")
    launch_env.settle()
    job = launch_env.store.get(job_id)
    assert job.state == ERROR and job.complete
    assert job.description.startswith("Terminal error: unknown cluster alias 'gpu'")
    assert "build01, default" in job.description or "default, build01" in job.description
    assert launch_env.kube.count("POST") == launch_env.build01.count("POST") == 0
    assert job_id not in {j.name for j in launch_env.store.unfinished()}


def test_a_pod_the_cluster_rejects_ends_the_job_in_error(launch_env):
    job_id = launch_env.job()
    launch_env.kube.fail("POST", "/api/v1/namespaces/test-pods/pods", status=422)
    launch_env.settle()
    job = launch_env.store.get(job_id)
    assert job.state == ERROR and job.description.startswith("Pod can not be created: ")


def test_max_concurrency_makes_a_job_wait_until_a_slot_frees(launch_env):
    name = f"serial-{uuid.uuid4().hex[:6]}"
    first = launch_env.job(name, max_concurrency=1, pull=1)
    second = launch_env.job(name, max_concurrency=1, pull=2)
    run = launch_env.settle()
    assert launch_env.store.get(first).state == PENDING
    assert launch_env.store.get(second).state == TRIGGERED            # waiting, not dropped
    assert run.pending == {PROWJOBS_QUEUE: 1} and launch_env.pods(second) == []
    launch_env.finish(first)
    launch_env.settle(wait_for_delayed=5)
    assert launch_env.store.get(second).state == PENDING and len(launch_env.pods(second)) == 1


def test_job_queue_capacities_and_the_global_limit(launch_env):
    plank(launch_env, "  max_concurrency: 2\n  job_queue_capacities: {closed: 0, open: -1}\n")
    closed = launch_env.job(job_queue_name="closed")
    a, b, c = (launch_env.job(job_queue_name="open", pull=n) for n in (1, 2, 3))
    launch_env.settle()
    states = {j: launch_env.store.get(j).state for j in (closed, a, b, c)}
    assert states[closed] == TRIGGERED                                # capacity 0: never runs
    assert sorted(states[j] for j in (a, b, c)) == [PENDING, PENDING, TRIGGERED]   # global limit 2
    assert len(launch_env.kube.pods()) == 2
    assert launch_env.host.count(PROWJOBS_QUEUE) == 2                 # both waiting jobs are still queued
