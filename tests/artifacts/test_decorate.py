"""The pod of a decorated metal3 presubmit, as plank decorates it, with our uploaders (spec §5.1)."""
import json
from pathlib import Path

import pytest

from shared.artifacts.decorate import (CODE_MOUNT, DecorationError, Decorator, StorageAccess, blob_account_url)
from shared.config.loader import load_config
from shared.jobs.create import new_presubmit, pull_refs
from shared.kube.pods import pod_for_job

METAL3 = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "prow-configs" / "metal3"
BASE, HEAD = "b" * 40, "a" * 40
BUILD = "1826000000000000001"
IDENTITY = StorageAccess(account_url="https://prowdata.blob.core.windows.net", client_id="client-1",
                         tenant_id="tenant-1", service_account="prow-uploader")


@pytest.fixture(scope="module")
def metal3():
    loaded = load_config(str(METAL3 / "config.yaml"), str(METAL3 / "jobs"))
    assert not loaded.errors, loaded.errors[:3]
    return loaded


def gomod_job(metal3):
    gomod = next(j for j in metal3.jobs.presubmits_for("metal3-io/baremetal-operator") if j.name == "gomod")
    job = new_presubmit(gomod, pull_refs("metal3-io", "baremetal-operator", base_ref="main", base_sha=BASE,
                                         number=2345, sha=HEAD, author="alice"), namespace="prow")
    job.status["build_id"] = BUILD
    return job


def env_of(container):
    return {e["name"]: e["value"] for e in container.get("env", [])}


def by_name(items):
    return {item["name"]: item for item in items}


def test_the_decorated_pod_is_a_valid_pod(metal3):
    import kubernetes_validate
    pod = pod_for_job(gomod_job(metal3), decorate=Decorator(IDENTITY))
    kubernetes_validate.validate(pod, "1.33.0", strict=True)


def test_init_containers_and_the_wrapped_test(metal3):
    job = gomod_job(metal3)
    spec = pod_for_job(job, decorate=Decorator(IDENTITY))["spec"]
    dc = job.spec["decoration_config"]
    assert [c["name"] for c in spec["initContainers"]] == ["clonerefs", "initupload", "place-entrypoint"]
    assert [c["name"] for c in spec["containers"]] == ["test", "sidecar"]
    clonerefs, initupload, place = spec["initContainers"]
    assert clonerefs["image"] == dc["utility_images"]["clonerefs"]          # Prow's own image, reused
    assert place["image"] == dc["utility_images"]["entrypoint"] and place["args"] == ["--copy-mode-only"]
    assert initupload["image"] == dc["utility_images"]["initupload"]
    assert clonerefs["resources"] == {"requests": {"cpu": "10m", "memory": "10Mi"}}
    clone = json.loads(env_of(clonerefs)["CLONEREFS_OPTIONS"])
    assert clone["src_root"] == "/home/prow/go" and clone["log"] == "/logs/clone.json"
    assert clone["refs"][0]["pulls"][0]["sha"] == HEAD and clone["git_user_name"] == "ci-robot"

    test = spec["containers"][0]
    assert test["command"] == ["/tools/entrypoint"] and "args" not in test
    assert test["workingDir"] == "/home/prow/go/src/github.com/metal3-io/baremetal-operator"
    env = env_of(test)
    assert env["IS_CONTAINER"] == "TRUE"                                    # the job's own env stays
    assert env["ARTIFACTS"] == "/logs/artifacts" and env["GOPATH"] == "/home/prow/go"
    assert env["PULL_NUMBER"] == "2345" and env["JOB_NAME"] == "gomod" and env["BUILD_ID"] == BUILD
    entry = json.loads(env["ENTRYPOINT_OPTIONS"])
    assert entry == {"timeout": 7200 * 10**9, "grace_period": 15 * 10**9, "artifact_dir": "/logs/artifacts",
                     "args": ["sh", "./hack/gomod.sh"], "container_name": "test",
                     "process_log": "/logs/process-log.txt", "marker_file": "/logs/marker-file.txt",
                     "metadata_file": "/logs/artifacts/metadata.json"}
    assert {m["mountPath"] for m in test["volumeMounts"]} == {"/logs", "/tools", "/home/prow/go"}


def test_volumes_and_no_storage_credentials_in_the_pod(metal3):
    job = gomod_job(metal3)
    assert job.spec["decoration_config"]["s3_credentials_secret"] == "s3-credentials"   # metal3 sets it
    spec = pod_for_job(job, decorate=Decorator(IDENTITY))["spec"]
    volumes = by_name(spec["volumes"])
    assert set(volumes) == {"logs", "tools", "code", "clonerefs-tmp", "azure-identity-token"}
    mounts = [m for c in spec["initContainers"] + spec["containers"] for m in c.get("volumeMounts", [])]
    assert not [m for m in mounts if m["mountPath"].startswith(("/secrets/s3-storage", "/secrets/gcs"))]
    assert "AccountKey" not in json.dumps(spec)
    token = volumes["azure-identity-token"]["projected"]["sources"][0]["serviceAccountToken"]
    assert token["audience"] == "api://AzureADTokenExchange"
    assert spec["serviceAccountName"] == "prow-uploader"
    containers = by_name(spec["initContainers"] + spec["containers"])
    for name in ("initupload", "sidecar"):
        env = env_of(containers[name])
        assert env["AZURE_CLIENT_ID"] == "client-1" and env["AZURE_TENANT_ID"] == "tenant-1"
        assert env["AZURE_FEDERATED_TOKEN_FILE"] == "/var/run/secrets/azure/tokens/azure-identity-token"
        assert env["PROW_ARTIFACTS_CONTAINER"] == "prow-logs"                # s3://prow-logs
        assert env["PROW_ARTIFACTS_ACCOUNT_URL"] == IDENTITY.account_url
        assert json.loads(env["JOB_SPEC"])["buildid"] == BUILD
    for name in ("test", "clonerefs", "place-entrypoint"):          # the test never gets the token
        mounts = {m["name"] for m in containers[name].get("volumeMounts", [])}
        assert "azure-identity-token" not in mounts and "AZURE_CLIENT_ID" not in env_of(containers[name])


def test_the_uploaders_options(metal3):
    spec = pod_for_job(gomod_job(metal3), decorate=Decorator(IDENTITY))["spec"]
    containers = by_name(spec["initContainers"] + spec["containers"])
    init = json.loads(env_of(containers["initupload"])["INITUPLOAD_OPTIONS"])
    assert init["bucket"] == "s3://prow-logs" and init["path_strategy"] == "explicit"
    assert init["log"] == "/logs/clone.json"
    sidecar = json.loads(env_of(containers["sidecar"])["SIDECAR_OPTIONS"])
    assert sidecar["gcs_options"]["items"] == ["/logs/artifacts"]
    assert [e["marker_file"] for e in sidecar["entries"]] == ["/logs/marker-file.txt"]
    assert containers["sidecar"]["volumeMounts"][0] == {"name": "logs", "mountPath": "/logs"}


def test_sas_access_puts_only_a_sas_in_the_uploaders(metal3):
    issued = []

    def sas_for(container, lifetime):
        issued.append((container, lifetime.total_seconds()))
        return "sv=2024&sig=delegated"
    access = StorageAccess(account_url=IDENTITY.account_url, mode="sas", sas_for=sas_for)
    spec = pod_for_job(gomod_job(metal3), decorate=Decorator(access))["spec"]
    containers = by_name(spec["initContainers"] + spec["containers"])
    assert env_of(containers["sidecar"])["PROW_ARTIFACTS_SAS"] == "sv=2024&sig=delegated"
    assert "PROW_ARTIFACTS_SAS" not in env_of(containers["test"])
    assert "azure-identity-token" not in by_name(spec["volumes"])
    assert issued == [("prow-logs", 7200 + 15 + 3600)]             # lives as long as the job may


def test_multi_container_and_skip_cloning_and_grace(metal3):
    job = gomod_job(metal3)
    job.spec["pod_spec"]["containers"][0]["name"] = "unit"         # several containers: each is named
    job.spec["pod_spec"]["containers"].append({"name": "db", "image": "postgres", "command": ["db"]})
    job.spec["decoration_config"].update(skip_cloning=True, grace_period="40s", timeout="10m")
    spec = pod_for_job(job, decorate=Decorator(IDENTITY))["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["initupload", "place-entrypoint"]
    assert "code" not in by_name(spec["volumes"]) and "workingDir" not in spec["containers"][0]
    entries = json.loads(env_of(spec["containers"][-1])["SIDECAR_OPTIONS"])["entries"]
    assert [(e["container_name"], e["process_log"], e["marker_file"]) for e in entries] == [
        ("unit", "/logs/unit-log.txt", "/logs/unit-marker.txt"), ("db", "/logs/db-log.txt", "/logs/db-marker.txt")]
    assert spec["terminationGracePeriodSeconds"] == 50
    options = json.loads(env_of(by_name(spec["containers"])["db"])["ENTRYPOINT_OPTIONS"])
    assert options["timeout"] == 600 * 10**9 and options["marker_file"] == "/logs/db-marker.txt"


def test_undecorated_jobs_get_only_the_downward_env(metal3):
    job = gomod_job(metal3)
    job.spec.pop("decoration_config")
    spec = pod_for_job(job, decorate=Decorator(IDENTITY))["spec"]
    assert "initContainers" not in spec and [c["name"] for c in spec["containers"]] == ["test"]
    assert env_of(spec["containers"][0])["JOB_NAME"] == "gomod"


def test_missing_settings_are_clear_errors(metal3):
    with pytest.raises(DecorationError, match="PROW_ARTIFACTS_CLIENT_ID"):
        pod_for_job(gomod_job(metal3), decorate=Decorator(StorageAccess(account_url="https://a")))
    with pytest.raises(DecorationError, match="PROW_ARTIFACTS_AUTH"):
        StorageAccess.from_env({"PROW_ARTIFACTS_AUTH": "key"})


def test_account_url_from_the_app_storage_setting():
    assert blob_account_url({"PROW_STORAGE": "AccountName=a;AccountKey=k;BlobEndpoint=http://h:1/a/"}) == "http://h:1/a"
    assert blob_account_url({"PROW_STORAGE": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k"}) \
        == "https://acct.blob.core.windows.net"
    assert blob_account_url({"PROW_STORAGE__blobServiceUri": "https://x.blob.core.windows.net/"}) \
        == "https://x.blob.core.windows.net"


def test_the_app_creates_the_jobs_container_before_the_pod(metal3, storage_env, monkeypatch):
    from shared.artifacts.decorate import default_decorator
    from shared.storage import default_clients
    monkeypatch.setenv("PROW_ARTIFACTS_CLIENT_ID", "client-1")
    job = gomod_job(metal3)
    container = f"logs{BUILD[-8:]}{id(job) % 10**6}"
    job.spec["decoration_config"]["gcs_configuration"]["bucket"] = f"s3://{container}"
    pod = pod_for_job(job, decorate=default_decorator())
    assert default_clients().blob().get_container_client(container).exists()
    env = env_of(by_name(pod["spec"]["containers"])["sidecar"])
    assert env["PROW_ARTIFACTS_ACCOUNT_URL"].endswith("/devstoreaccount1")    # PROW_STORAGE's endpoint
    pod_for_job(job, decorate=default_decorator())                           # an existing one is fine
