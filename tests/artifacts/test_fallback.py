"""The reconciler's records (crier's gcsreporter and gcsk8sreporter): what the pod could not write.

Stories run through the real launcher and reconciler against the fake Kubernetes API (the
`env` fixture of tests/test_reconcile.py) with the recorder as the reconciler's `on_complete`.
"""
import json

import pytest

from shared.artifacts.fallback import RunRecorder
from shared.artifacts.records import dumps, finished
from shared.artifacts.store import ArtifactStore
from shared.jobs.model import ERROR, SUCCESS
from shared.storage import default_clients
from tests.test_reconcile import env  # noqa: F401  (fixture)


@pytest.fixture
def recorded(env, unique_name):  # noqa: F811
    container = unique_name("logs")
    store = ArtifactStore(default_clients().blob().get_container_client(container))
    store.ensure_container()
    gcs = {"bucket": f"gs://{container}", "path_strategy": "explicit"}
    env.reconciler.on_complete = RunRecorder(stores=lambda name: store, clusters=env.launcher.clusters,
                                             default_gcs=lambda job: gcs)
    env.artifacts, env.gcs = store, gcs
    return env


def run_dir(env, job_id):
    return f"pr-logs/pull/org_repo/{env.pull}/unit/{env.store.get(job_id).build_id}"


def decorated(env):
    return {"decoration_config": {"gcs_configuration": env.gcs,
                                  "utility_images": {"clonerefs": "c", "initupload": "i", "entrypoint": "e",
                                                     "sidecar": "s"}}}


def test_an_undecorated_job_keeps_its_pod_log_and_gets_crier_records(recorded):
    env = recorded
    job = env.job("unit")
    env.launch(job)
    env.kube.run(job)
    env.kube.set_log(job, "=== RUN TestUnit\nPASS\n", container="test")
    env.kube.succeed(job)
    env.tick()
    assert env.state(job) == SUCCESS
    where = run_dir(env, job)
    assert env.artifacts.read(f"{where}/build-log.txt") == b"=== RUN TestUnit\nPASS\n"
    assert env.artifacts.read_json(f"{where}/finished.json") == {
        "timestamp": env.artifacts.read_json(f"{where}/finished.json")["timestamp"], "passed": True,
        "metadata": {"uploader": "crier"}, "result": "success"}
    prowjob = env.artifacts.read(f"{where}/prowjob.json").decode()
    assert prowjob.startswith('{\n\t"kind": "ProwJob"') and json.loads(prowjob)["status"]["state"] == "success"
    started = env.artifacts.read_json(f"{where}/started.json")
    assert started["metadata"] == {"uploader": "crier"} and started["pull"] == str(env.pull)
    assert env.artifacts.read_json(f"{where}/podinfo.json")["pod"]["metadata"]["name"] == job
    assert env.artifacts.read("pr-logs/directory/unit/latest-build.txt").decode() == env.store.get(job).build_id


def test_a_pod_never_scheduled_gets_finished_json_with_the_jobs_result(recorded):
    env = recorded
    env.plank.update({"pod_unscheduled_timeout": "5m"})
    job = env.job("unit", **decorated(env))
    env.launch(job)
    env.advance(minutes=6)
    env.tick()
    assert env.state(job) == ERROR
    where = run_dir(env, job)
    doc = env.artifacts.read_json(f"{where}/finished.json")
    assert (doc["passed"], doc["result"], doc["metadata"]) == (False, "error", {"uploader": "crier"})
    assert json.loads(env.artifacts.read(f"{where}/prowjob.json"))["status"]["description"] == "Pod scheduling timeout."
    assert not env.artifacts.exists(f"{where}/build-log.txt")      # decorated: the log is the sidecar's


def test_the_sidecars_finished_json_is_kept(recorded):
    env = recorded
    job = env.job("unit", **decorated(env))
    env.launch(job)
    where = run_dir(env, job)
    env.artifacts.write(f"{where}/finished.json", dumps(finished(1, False, "FAILURE", revision="x")))
    env.kube.run(job)
    env.kube.fail_pod(job)
    env.tick()
    assert env.artifacts.read_json(f"{where}/finished.json")["result"] == "FAILURE"      # not overwritten
    assert json.loads(env.artifacts.read(f"{where}/prowjob.json"))["status"]["state"] == "failure"


def test_a_job_never_launched_has_no_directory(recorded):
    env = recorded
    job = env.job("unit")
    env.store.modify(job, lambda current: current.set_state(ERROR, "Terminal error: unknown cluster.") or True)
    assert env.reconciler.on_complete.job_completed(env.store.get(job), None) == []
    assert env.artifacts.names() == []


def test_a_timed_out_undecorated_job_keeps_its_log_before_its_pod_is_deleted(recorded):
    env = recorded
    env.plank.update({"pod_running_timeout": "1h"})
    job = env.job("unit")
    env.launch(job)
    env.kube.run(job)
    env.kube.set_log(job, "=== RUN TestSlow\n", container="test")
    env.advance(hours=2)
    env.tick()
    assert (env.state(job), env.store.get(job).description) == ("aborted", "Pod running timeout.")
    assert env.kube.pods("test-pods") == []
    assert env.artifacts.read(f"{run_dir(env, job)}/build-log.txt") == b"=== RUN TestSlow\n"


def test_a_failed_record_write_is_tried_again_by_the_next_tick_and_then_left_alone(recorded):
    env = recorded
    recorder, calls = env.reconciler.on_complete, []

    def flaky(job, pod):
        calls.append(job.state)
        if len(calls) == 1:
            raise RuntimeError("storage down")
        recorder(job, pod)

    env.reconciler.on_complete = flaky
    job = env.job("unit")
    env.launch(job)
    env.kube.set_log(job, "FAIL\n", container="test")
    env.kube.fail_pod(job)
    env.tick()
    where = run_dir(env, job)
    assert env.state(job) == "failure" and not env.artifacts.exists(f"{where}/finished.json")
    assert env.statuses("unit")[-1].state == "failure"           # reported all the same
    assert [j.name for j in env.store.unreported()] == [job]      # kept for the retry
    env.tick()
    assert env.artifacts.read_json(f"{where}/finished.json")["result"] == "failure"
    assert env.artifacts.read(f"{where}/build-log.txt") == b"FAIL\n"   # the pod was still there
    assert env.store.unreported() == []
    env.tick()
    assert calls == ["failure", "failure"]
