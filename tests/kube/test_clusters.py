"""The cluster client (real `kubernetes` client) against the fake API server; AKS tokens; pods of jobs."""
import json
import time
from types import SimpleNamespace

import pytest

from shared.jobs.create import new_prowjob, pull_refs
from shared.kube.clusters import (AKS_SCOPE, BearerToken, ClusterClient, ClusterUnavailable, Clusters, PodExists,
                                  PodRejected, UnknownCluster)
from shared.kube.pods import PodSpecMissing, pod_for_job
from tests.fakes.kube import FakeKube, parse_label_selector, labels_match, write_kubeconfig
from tests.fakes.kube import fake_kube  # noqa: F401


def pod(name, labels=None, containers=None):
    return {"metadata": {"name": name, "labels": labels or {}},
            "spec": {"containers": containers or [{"name": "test", "image": "alpine"}]}}


@pytest.fixture
def cluster(fake_kube, tmp_path):
    path = write_kubeconfig(tmp_path / "kubeconfig", {"default": fake_kube})
    return Clusters(kubeconfig=str(path)).get("default")


def test_pod_calls_round_trip_through_the_real_client(cluster, fake_kube):
    created = cluster.create_pod("test-pods", pod("p1", {"app": "ci", "run": "1"}))
    assert created["metadata"]["uid"] and created["status"]["phase"] == "Pending"
    cluster.create_pod("test-pods", pod("p2", {"app": "ci", "run": "2"}))
    cluster.create_pod("other", pod("p3", {"app": "ci", "run": "1"}))
    assert [p["metadata"]["name"] for p in cluster.list_pods("test-pods", {"app": "ci"})] == ["p1", "p2"]
    assert [p["metadata"]["name"] for p in cluster.list_pods("test-pods", "app=ci,run!=1")] == ["p2"]
    fake_kube.run("p1", namespace="test-pods")
    fake_kube.fail_pod("p1", namespace="test-pods", exit_code=3)
    got = cluster.get_pod("test-pods", "p1")
    assert got["status"]["phase"] == "Failed"
    assert got["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3
    fake_kube.set_log("p1", "line 1\nline 2\n{\"json\": true}\n", namespace="test-pods")
    assert cluster.pod_log("test-pods", "p1") == "line 1\nline 2\n{\"json\": true}\n"
    assert cluster.pod_log("test-pods", "p1", tail_lines=1) == "{\"json\": true}\n"
    assert cluster.delete_pod("test-pods", "p1") is True
    assert cluster.delete_pod("test-pods", "p1") is False        # 404 → already gone
    assert cluster.get_pod("test-pods", "p1") is None
    auth = {r.headers.get("authorization") for r in fake_kube.log}
    assert auth == {"Bearer fake-kube-token"}
    assert fake_kube.find("GET", "/api/v1/namespaces/test-pods/pods")[0].query["labelSelector"] == ["app=ci"]


def test_errors_are_typed_from_kubernetes_status_bodies(cluster, fake_kube):
    cluster.create_pod("ns", pod("dup"))
    with pytest.raises(PodExists) as exists:
        cluster.create_pod("ns", pod("dup"))
    assert exists.value.status == 409 and exists.value.reason == "AlreadyExists"
    assert 'pods "dup" already exists' in str(exists.value)
    with pytest.raises(PodRejected) as invalid:
        cluster.create_pod("ns", {"metadata": {"name": "Bad_Name"}, "spec": {"containers": [{"image": "x"}]}})
    assert invalid.value.status == 422
    fake_kube.fail("POST", "/api/v1/namespaces/*/pods", status=500)
    with pytest.raises(ClusterUnavailable) as unavailable:
        cluster.create_pod("ns", pod("p"))
    assert unavailable.value.status == 500
    assert fake_kube.pod("ns", "p") is None


def test_a_timeout_is_cluster_unavailable(fake_kube, tmp_path):
    path = write_kubeconfig(tmp_path / "kubeconfig", {"default": fake_kube})
    client = ClusterClient.from_kubeconfig(str(path), "default", timeout=(1.0, 0.5))
    fake_kube.fail_timeout("GET", "/api/v1/namespaces/ns/pods/*", delay=1.5)
    start = time.monotonic()
    with pytest.raises(ClusterUnavailable):
        client.get_pod("ns", "x")
    assert time.monotonic() - start < 1.4


def test_a_wrong_token_is_rejected_by_the_fake(tmp_path):
    with FakeKube(token="right") as kube:
        other = FakeKube(token="wrong")
        path = write_kubeconfig(tmp_path / "kc", {"default": other})
        other.stop()
        text = path.read_text().replace(other.url, kube.url)
        path.write_text(text)
        with pytest.raises(PodRejected) as err:
            Clusters(kubeconfig=str(path)).get("default").get_pod("ns", "x")
        assert err.value.status == 401


def test_contexts_are_the_clusters_and_an_unknown_alias_says_which_exist(tmp_path):
    with FakeKube() as a, FakeKube() as b:
        path = write_kubeconfig(tmp_path / "kc", {"default": a, "build01": b})
        clusters = Clusters(kubeconfig=str(path))
        clusters.get("build01").create_pod("ns", pod("x"))
        clusters.get(None).create_pod("ns", pod("y"))              # no cluster: default
        assert [p["metadata"]["name"] for p in b.pods()] == ["x"]
        assert [p["metadata"]["name"] for p in a.pods()] == ["y"]
        with pytest.raises(UnknownCluster) as err:
            clusters.get("gpu")
        assert "'gpu'" in str(err.value) and "default, build01" in str(err.value)


class FakeCredential:
    def __init__(self, lifetime=3600):
        self.calls = []
        self.lifetime = lifetime

    def get_token(self, *scopes):
        self.calls.append(scopes)
        return SimpleNamespace(token=f"entra-{len(self.calls)}", expires_on=int(time.time()) + self.lifetime)


def test_aks_without_kubeconfig_uses_an_entra_token_for_the_aks_scope():
    credential = FakeCredential()
    with FakeKube(token="entra-1") as kube:
        clusters = Clusters.from_env({"PROW_AKS_CLUSTERS": json.dumps({"default": {"server": kube.url}})},
                                     credential_factory=lambda: credential)
        client = clusters.get("default")
        client.create_pod("ns", pod("x"))
        client.get_pod("ns", "x")
    assert credential.calls == [(AKS_SCOPE,)]                      # cached between requests
    assert {r.headers["authorization"] for r in kube.log} == {"Bearer entra-1"}


def test_an_expiring_token_is_renewed():
    credential = FakeCredential(lifetime=60)                       # inside the renewal margin
    token = BearerToken(credential)
    assert [token.get(), token.get()] == ["entra-1", "entra-2"]


def test_aks_setting_must_name_servers():
    with pytest.raises(ValueError):
        Clusters.from_env({"PROW_AKS_CLUSTERS": '{"default": {}}'})


def test_label_selectors():
    req = parse_label_selector("a=1,b!=2,c in (x, y),d notin (z),e,!f")
    assert labels_match({"a": "1", "b": "3", "c": "y", "e": ""}, req)
    assert not labels_match({"a": "1", "c": "y", "e": "", "f": "1"}, req)
    assert not labels_match({"a": "1", "c": "q", "e": ""}, req)


# -- pods of jobs -------------------------------------------------------------------------------

def presubmit(**spec):
    base = {"type": "presubmit", "agent": "kubernetes", "cluster": "default", "namespace": "test-pods",
            "job": "unit", "context": "unit",
            "refs": pull_refs("org", "repo", base_ref="main", base_sha="b" * 40, number=7, sha="a" * 40,
                              author="alice", head_ref="fix", title="Fix"),
            "pod_spec": {"containers": [{"image": "golang", "command": ["make"], "env": [{"name": "X", "value": "1"}]}]}}
    base.update(spec)
    return new_prowjob(base, {"prow.k8s.io/is-optional": "false", "event-GUID": "g"}, {"owner": "me"})


def test_undecorated_pod_as_plank_builds_it():
    job = presubmit()
    p = pod_for_job(job, "1826")
    meta = p["metadata"]
    assert meta["name"] == job.name
    assert meta["labels"]["prow.k8s.io/id"] == job.name and meta["labels"]["prow.k8s.io/build-id"] == "1826"
    for k, v in {"created-by-prow": "true", "prow.k8s.io/type": "presubmit", "prow.k8s.io/job": "unit",
                 "prow.k8s.io/refs.org": "org", "prow.k8s.io/refs.repo": "repo", "prow.k8s.io/refs.pull": "7",
                 "event-GUID": "g"}.items():
        assert meta["labels"][k] == v
    assert meta["annotations"] == {"prow.k8s.io/job": "unit", "prow.k8s.io/context": "unit", "owner": "me"}
    spec = p["spec"]
    assert spec["restartPolicy"] == "Never" and spec["automountServiceAccountToken"] is False
    container = spec["containers"][0]
    assert container["name"] == "test" and container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    env = {e["name"]: e["value"] for e in container["env"]}
    assert container["env"][0] == {"name": "X", "value": "1"}          # the job's own env first
    assert env["BUILD_ID"] == env["BUILD_NUMBER"] == "1826" and env["PROW_JOB_ID"] == job.name
    assert env["PULL_REFS"] == f"main:{'b' * 40},7:{'a' * 40}" and env["PULL_NUMBER"] == "7"
    assert env["PULL_HEAD_REF"] == "fix" and env["REPO_OWNER"] == "org" and env["SRC_BASE"] == "org/repo"
    assert json.loads(env["JOB_SPEC"])["buildid"] == "1826"
    assert job.spec["pod_spec"]["containers"][0]["env"] == [{"name": "X", "value": "1"}]   # job untouched


def test_decoration_seam_receives_the_spec_and_env():
    seen = {}

    def decorate(spec, job, env):
        seen["env"] = env
        spec.setdefault("initContainers", []).append({"name": "clonerefs", "image": "c"})

    p = pod_for_job(presubmit(), "1", decorate=decorate)
    assert seen["env"]["BUILD_ID"] == "1"
    assert p["spec"]["initContainers"][0]["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert "env" not in p["spec"]["containers"][0] or len(p["spec"]["containers"][0]["env"]) == 1


def test_a_periodic_gets_only_the_common_env_and_a_job_without_spec_is_refused():
    periodic = new_prowjob({"type": "periodic", "job": "nightly", "pod_spec": {"containers": [{"image": "a"}]},
                            "extra_refs": [{"org": "o", "repo": "r", "base_ref": "main"}]})
    env = {e["name"] for e in pod_for_job(periodic, "5")["spec"]["containers"][0]["env"]}
    assert "REPO_OWNER" not in env and "JOB_NAME" in env
    with pytest.raises(PodSpecMissing):
        pod_for_job(new_prowjob({"type": "periodic", "job": "x"}), "1")
