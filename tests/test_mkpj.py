"""`python -m shared.cli mkpj`: Prow's flags, the job printed as YAML, --trigger-job stores and queues it."""
import json

import pytest
import yaml

from shared.cli import main

CONFIG = "prowjob_namespace: prow\npod_namespace: test-pods\n"
JOBS = """\
presubmits:
  org/repo:
  - name: unit
    always_run: true
    spec:
      containers: [{image: golang, command: [make, test]}]
postsubmits:
  org/repo:
  - name: publish
    spec:
      containers: [{image: alpine}]
periodics:
- name: nightly
  interval: 24h
  spec:
    containers: [{image: alpine}]
"""


@pytest.fixture
def paths(tmp_path):
    (tmp_path / "config.yaml").write_text(CONFIG)
    (tmp_path / "jobs.yaml").write_text(JOBS)
    return ["--config-path", str(tmp_path / "config.yaml"), "--job-config-path", str(tmp_path / "jobs.yaml")]


def test_presubmit_is_printed_as_prow_prints_it(paths, capsys):
    code = main(["mkpj", *paths, "--job", "unit", "--base-ref", "main", "--base-sha", "b" * 40,
                 "--pull-number", "7", "--pull-sha", "a" * 40, "--pull-author", "alice", "--pull-head-ref", "fix"])
    out = capsys.readouterr().out
    assert code == 0
    doc = yaml.safe_load(out)
    assert (doc["apiVersion"], doc["kind"]) == ("prow.k8s.io/v1", "ProwJob")
    assert doc["metadata"]["namespace"] == "prow" and doc["metadata"]["labels"]["prow.k8s.io/refs.pull"] == "7"
    assert doc["spec"]["refs"]["pulls"][0] == {
        "number": 7, "author": "alice", "sha": "a" * 40, "head_ref": "fix",
        "link": "https://github.com/org/repo/pull/7",
        "commit_link": f"https://github.com/org/repo/pull/7/commits/{'a' * 40}",
        "author_link": "https://github.com/alice"}
    assert doc["spec"]["namespace"] == "test-pods" and doc["status"]["state"] == "triggered"
    assert out.index("apiVersion") < out.index("kind") < out.index("metadata")       # sorted keys, as Prow


def test_missing_flags_and_unknown_jobs_are_explained(paths, capsys):
    assert main(["mkpj", *paths, "--job", "unit", "--base-ref", "main"]) == 1
    assert "--base-sha, --pull-number, --pull-sha" in capsys.readouterr().err
    assert main(["mkpj", *paths, "--job", "nope"]) == 1
    assert "not in the config" in capsys.readouterr().err


def test_postsubmit_and_periodic(paths, capsys):
    assert main(["mkpj", *paths, "--job", "publish", "--base-ref", "main", "--base-sha", "c" * 40]) == 0
    assert "pulls" not in yaml.safe_load(capsys.readouterr().out)["spec"]["refs"]
    assert main(["mkpj", *paths, "--job", "nightly"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["spec"]["type"] == "periodic"


def test_trigger_job_stores_and_queues_it(paths, capsys, storage_env):
    from azure.core.exceptions import ResourceExistsError
    from shared.jobs.queue import JobQueue
    from shared.jobs.store import JobStore
    from shared.storage import default_clients
    queue = JobQueue(default_clients())
    try:
        queue.client().create_queue()
    except ResourceExistsError:
        queue.client().clear_messages()
    assert main(["mkpj", *paths, "--job", "nightly", "--trigger-job"]) == 0
    name = yaml.safe_load(capsys.readouterr().out)["metadata"]["name"]
    assert JobStore(default_clients()).get(name).state == "triggered"
    assert [json.loads(m.content)["id"] for m in queue.client().peek_messages(max_messages=32)] == [name]
