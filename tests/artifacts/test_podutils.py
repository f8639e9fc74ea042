"""Our initupload and sidecar programs, run as the decorated metal3 pod runs them, on Azurite.

Each test prepares what clonerefs and the entrypoint leave in /logs (clone records, process log,
marker file, artifacts), runs the program with the env of its container in the decorated pod,
and reads back every blob at its exact path in Prow's layout.
"""
import json
import resource
import subprocess
import sys
import time
import uuid

import pytest

from tests.artifacts.podrun import PodRun, terminate
from tests.artifacts.test_decorate import BASE, HEAD, gomod_job, metal3  # noqa: F401  (fixture)
from tests.test_reconcile import env  # noqa: F401  (fixture)

MERGED = "c" * 40


@pytest.fixture
def pod(azurite, metal3, tmp_path):  # noqa: F811
    job = gomod_job(metal3)
    job.status["build_id"] = str(1826000000000000000 + uuid.uuid4().int % 10**12)
    run = PodRun(azurite, job, tmp_path)
    run.build = job.status["build_id"]
    run.dir = f"pr-logs/pull/metal3-io_baremetal-operator/2345/gomod/{run.build}"
    return run


def clone_ok():
    return [{"refs": {"org": "metal3-io", "repo": "baremetal-operator", "base_ref": "main", "base_sha": BASE,
                      "pulls": [{"number": 2345, "sha": HEAD}]},
             "commands": [{"command": "git fetch https://github.com/metal3-io/baremetal-operator.git main",
                           "output": "", "error": "", "duration": 1000}],
             "failed": False, "final_sha": MERGED, "duration": 2000}]


def run_ok(proc):
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_a_passing_run_leaves_every_file_of_prows_layout(pod):
    pod.cloned(clone_ok())
    run_ok(pod.run("initupload"))
    started = pod.store.read_json(f"{pod.dir}/started.json")
    assert list(started) == ["timestamp", "pull", "repos", "repo-commit", "repo-version"]
    assert started["repo-commit"] == MERGED and started["pull"] == "2345"       # the SHA the clone got
    assert started["repos"] == {"metal3-io/baremetal-operator": f"main:{BASE},2345:{HEAD}"}
    assert pod.store.read_json(f"{pod.dir}/clone-records.json") == clone_ok()
    assert "git fetch https://github.com/metal3-io/baremetal-operator.git main" in \
        pod.store.read(f"{pod.dir}/clone-log.txt").decode()
    assert not pod.store.exists(f"{pod.dir}/finished.json")

    pod.test_ran(0, "ok 1 - gomod is tidy\n")
    pod.artifact("junit_gomod.xml", "<testsuite/>")
    pod.artifact("nested/deeper/report #1.txt", "deep")
    pod.artifact("metadata.json", json.dumps({"go-version": "1.26"}))
    run_ok(pod.run("sidecar"))

    assert pod.store.names(pod.dir) == sorted(f"{pod.dir}/{name}" for name in (
        "started.json", "clone-log.txt", "clone-records.json", "build-log.txt", "finished.json",
        "sidecar-logs.json", "artifacts/junit_gomod.xml", "artifacts/nested/deeper/report #1.txt",
        "artifacts/metadata.json"))
    assert pod.store.read(f"{pod.dir}/build-log.txt") == b"ok 1 - gomod is tidy\n"
    finished = pod.store.read_json(f"{pod.dir}/finished.json")
    assert list(finished) == ["timestamp", "passed", "metadata", "result", "revision"]
    assert finished["passed"] is True and finished["result"] == "SUCCESS"
    assert finished["metadata"] == {"go-version": "1.26"} and finished["revision"] == HEAD
    assert pod.store.read("pr-logs/directory/gomod/latest-build.txt").decode() == pod.build
    assert pod.store.read("pr-logs/pull/metal3-io_baremetal-operator/2345/gomod/latest-build.txt").decode() == pod.build
    alias = pod.store.container.get_blob_client(f"pr-logs/directory/gomod/{pod.build}.txt")
    assert alias.download_blob().readall().decode() == f"s3://prow-logs/{pod.dir}"
    assert alias.get_blob_properties().metadata == {"link": f"s3://prow-logs/{pod.dir}"}
    content = pod.store.container.get_blob_client(f"{pod.dir}/build-log.txt").get_blob_properties().content_settings
    assert content.content_type.startswith("text/plain")


def test_a_failed_clone_fails_the_pod_before_the_test(pod):
    records = clone_ok()
    records[0].update(failed=True, final_sha="")
    records[0]["commands"][0].update(output="fatal: couldn't find remote ref main", error="exit status 128")
    pod.cloned(records)
    proc = pod.run("initupload")
    assert proc.returncode == 1 and "clone failed" in proc.stderr
    assert "couldn't find remote ref" in pod.store.read(f"{pod.dir}/build-log.txt").decode()
    finished = pod.store.read_json(f"{pod.dir}/finished.json")
    assert finished["passed"] is False and finished["result"] == "FAILURE" and list(finished) == [
        "timestamp", "passed", "result"]
    assert pod.store.read_json(f"{pod.dir}/started.json")["repo-commit"] == HEAD      # nothing merged


@pytest.mark.parametrize("code, passed, result", [(1, False, "FAILURE"), (127, False, "FAILURE"),
                                                  (130, False, "ABORTED")])
def test_failing_timed_out_and_aborted_tests_are_uploaded(pod, code, passed, result):
    pod.cloned(clone_ok())
    run_ok(pod.run("initupload"))
    log = "FAIL\n" if code == 1 else "Process did not finish before 2h0m0s timeout\n"
    pod.test_ran(code, log)
    run_ok(pod.run("sidecar"))                     # the sidecar exits 0 whatever the test did
    finished = pod.store.read_json(f"{pod.dir}/finished.json")
    assert (finished["passed"], finished["result"]) == (passed, result)
    assert pod.store.read(f"{pod.dir}/build-log.txt").decode() == log
    assert json.loads(pod.store.read(f"{pod.dir}/sidecar-logs.json"))["exit_codes"] == [code]


def test_sigterm_before_the_test_ends_uploads_an_aborted_run(pod):
    pod.cloned(clone_ok())
    run_ok(pod.run("initupload"))
    (pod.logs / "process-log.txt").write_text("still running\n")
    sidecar = pod.start("sidecar")
    time.sleep(0.5)                                 # let it start waiting on the marker
    assert sidecar.poll() is None, sidecar.stderr.read()
    run_ok(terminate(sidecar))
    finished = pod.store.read_json(f"{pod.dir}/finished.json")
    assert (finished["passed"], finished["result"]) == (False, "ABORTED")
    assert pod.store.read(f"{pod.dir}/build-log.txt") == b"still running\n"


def test_the_sidecar_waits_for_the_marker(pod):
    pod.cloned(clone_ok())
    sidecar = pod.start("sidecar")
    time.sleep(0.5)
    assert sidecar.poll() is None and not pod.store.exists(f"{pod.dir}/finished.json")
    pod.test_ran(0, "done\n")
    out, err = sidecar.communicate(timeout=60)
    assert sidecar.returncode == 0, err
    assert pod.store.read_json(f"{pod.dir}/finished.json")["result"] == "SUCCESS"


MEASURE = """
import resource, subprocess, sys
code = subprocess.run(sys.argv[1:]).returncode
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(code)
"""


def test_a_200_mb_log_is_streamed_not_loaded(pod):
    size = 200 * 1024 * 1024
    line = b"x" * 1023 + b"\n"
    with (pod.logs / "process-log.txt").open("wb") as log:
        for _ in range(size // len(line)):
            log.write(line)
    marker = pod.logs / "marker-file.txt"
    marker.write_text("0")
    proc = subprocess.run([sys.executable, "-c", MEASURE, *pod.command("sidecar")], env=pod.env("sidecar"),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    peak_mb = int(proc.stdout.split()[-1]) / 1024
    print(f"sidecar peak RSS {peak_mb:.0f} MB")
    blob = pod.store.container.get_blob_client(f"{pod.dir}/build-log.txt")
    try:
        assert blob.get_blob_properties().size == size
        assert peak_mb < 120, f"the sidecar peaked at {peak_mb:.0f} MB for a 200 MB log"
    finally:
        blob.delete_blob()                          # Azurite keeps blobs in memory


def test_the_whole_story_launch_pod_uploads_and_reconcile(azurite, metal3, env, tmp_path):  # noqa: F811
    """A decorated metal3 presubmit launched onto the fake cluster; its pod's own uploaders run
    with the env the launcher gave them; the pod ends; reconcile adds prowjob.json and podinfo.json
    and leaves the sidecar's finished.json."""
    from shared.artifacts.fallback import RunRecorder
    from tests.artifacts.podrun import sas_decorator

    env.launcher.decorate = sas_decorator(azurite)
    job = gomod_job(metal3)
    job.status.pop("build_id")
    job_id = env.store.create(job).name
    env.launch(job_id)
    build = env.store.get(job_id).build_id
    [created] = [p for p in env.kube.pods() if p["metadata"]["name"] == job_id]
    run = PodRun(azurite, None, tmp_path, pod=created)
    env.reconciler.on_complete = RunRecorder(stores=lambda name: run.store, clusters=env.launcher.clusters)
    where = f"pr-logs/pull/metal3-io_baremetal-operator/2345/gomod/{build}"

    run.cloned(clone_ok())
    run_ok(run.run("initupload"))
    env.kube.run(job_id)
    run.test_ran(2, "go: updates to go.mod needed\n")
    run_ok(run.run("sidecar"))
    env.kube.fail_pod(job_id, exit_code=2)
    env.tick()

    assert env.state(job_id) == "failure"
    assert run.store.names(where) == sorted(f"{where}/{name}" for name in (
        "started.json", "clone-log.txt", "clone-records.json", "build-log.txt", "finished.json",
        "sidecar-logs.json", "prowjob.json", "podinfo.json"))
    finished = run.store.read_json(f"{where}/finished.json")
    assert (finished["passed"], finished["result"], "metadata" in finished) == (False, "FAILURE", False)
    prowjob = json.loads(run.store.read(f"{where}/prowjob.json"))
    assert prowjob["status"]["state"] == "failure" and prowjob["status"]["build_id"] == build
    assert run.store.read_json(f"{where}/started.json")["repo-commit"] == MERGED
