"""Job records from config, as Prow's pjutil builds them; build ids; the state machine."""
import json
import re

import pytest

from shared.config.errors import Diagnostics
from shared.config.jobs import build_job_config
from shared.config.yamlnodes import load_yaml
from shared.jobs import buildid
from shared.jobs.create import (labels_and_annotations, new_periodic, new_postsubmit, new_presubmit, pull_refs,
                                push_refs)
from shared.jobs.model import ERROR, PENDING, SUCCESS, TRIGGERED, InvalidTransition, ProwJob

CONFIG = """\
pod_namespace: test-pods
prowjob_namespace: prow
presets:
- labels: {preset-creds: "true"}
  env: [{name: CREDS, value: /etc/creds}]
plank:
  default_decoration_configs:
    "*":
      gcs_configuration: {bucket: s3://prow-logs, path_strategy: explicit}
      utility_images: {clonerefs: c:1, initupload: i:1, entrypoint: e:1, sidecar: s:1}
presubmits:
  org/repo:
  - name: unit
    always_run: true
    optional: true
    labels: {preset-creds: "true", team: infra}
    annotations: {owner: infra}
    path_alias: example.com/repo
    max_concurrency: 2
    spec:
      containers: [{image: golang, command: [make, test]}]
  - name: decorated-and-clustered
    decorate: true
    cluster: build01
    skip_report: true
    context: ci/decorated
    spec:
      containers: [{image: golang, command: [make]}]
postsubmits:
  org/repo:
  - name: publish
    spec:
      containers: [{image: alpine}]
periodics:
- name: nightly
  interval: 24h
  extra_refs: [{org: org, repo: other, base_ref: main}]
  spec:
    containers: [{image: alpine}]
"""


@pytest.fixture(scope="module")
def jobs():
    diags = Diagnostics()
    config = build_job_config(load_yaml(CONFIG, "config.yaml")[0], "config.yaml", [], diags)
    assert not [d for d in diags.items if d.severity == "error"], diags.items
    return config


def refs():
    return pull_refs("org", "repo", base_ref="main", base_sha="b" * 40, number=7, sha="a" * 40,
                     author="alice", head_ref="fix", title="Fix it")


def test_presubmit_record_has_prows_labels_annotations_refs_and_spec(jobs):
    unit = jobs.presubmits_for("org/repo")[0]
    job = new_presubmit(unit, refs(), event_guid="guid-1", namespace="prow")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", job.name)
    assert job.namespace == "prow"
    assert job.labels == {"created-by-prow": "true", "prow.k8s.io/type": "presubmit", "prow.k8s.io/job": "unit",
                          "prow.k8s.io/context": "unit", "prow.k8s.io/refs.org": "org",
                          "prow.k8s.io/refs.repo": "repo", "prow.k8s.io/refs.base_ref": "main",
                          "prow.k8s.io/refs.pull": "7", "preset-creds": "true", "team": "infra",
                          "event-GUID": "guid-1", "prow.k8s.io/is-optional": "true"}
    assert job.annotations == {"prow.k8s.io/job": "unit", "prow.k8s.io/context": "unit", "owner": "infra"}
    spec = job.spec
    assert list(spec)[:6] == ["type", "agent", "cluster", "namespace", "job", "refs"]
    assert (spec["type"], spec["agent"], spec["cluster"], spec["namespace"], spec["job"]) == (
        "presubmit", "kubernetes", "default", "test-pods", "unit")
    assert spec["report"] is True and spec["context"] == "unit" and spec["rerun_command"] == "/test unit"
    assert spec["max_concurrency"] == 2
    assert spec["refs"]["path_alias"] == "example.com/repo"          # job-level refs fields copied in
    assert spec["refs"]["pulls"][0]["commit_link"] == f"https://github.com/org/repo/pull/7/commits/{'a' * 40}"
    assert spec["pod_spec"]["containers"][0]["env"] == [{"name": "CREDS", "value": "/etc/creds"}]  # preset
    assert "decoration_config" not in spec
    assert job.state == TRIGGERED and job.status["startTime"].endswith("Z")
    assert json.loads(json.dumps(job.to_dict()))["kind"] == "ProwJob"


def test_decorated_job_carries_the_merged_decoration_and_its_cluster(jobs):
    decorated = jobs.presubmits_for("org/repo")[1]
    job = new_presubmit(decorated, refs())
    assert job.spec["cluster"] == "build01"
    assert job.spec["decoration_config"]["gcs_configuration"]["bucket"] == "s3://prow-logs"
    assert "report" not in job.spec                               # skip_report: report false (omitted)
    assert job.labels["prow.k8s.io/context"] == "decorated"       # "/" is invalid in a label: basename
    assert job.annotations["prow.k8s.io/context"] == "ci/decorated"
    assert job.labels["prow.k8s.io/is-optional"] == "false"


def test_postsubmit_and_periodic(jobs):
    post = new_postsubmit(jobs.postsubmits_for("org/repo")[0],
                          push_refs("org", "repo", base_ref="main", base_sha="c" * 40))
    assert post.spec["type"] == "postsubmit" and "pulls" not in post.spec["refs"]
    assert "prow.k8s.io/refs.pull" not in post.labels
    nightly = new_periodic(jobs.periodic("nightly"))
    assert nightly.spec["type"] == "periodic" and nightly.spec["report"] is True
    assert "refs" not in nightly.spec
    assert nightly.labels["prow.k8s.io/refs.repo"] == "other"     # labels from extra_refs[0]
    assert nightly.labels["prow.k8s.io/context"] == ""


def test_label_hygiene_as_prow():
    long_name = "a" * 60 + "-_.bcd"
    labels, annotations = labels_and_annotations(
        {"type": "presubmit", "job": long_name, "context": "ci/x"}, {"path": "some/dir/ok", "bad": "-/-"})
    assert labels["prow.k8s.io/job"] == "a" * 60                   # cut to 63, then ._- stripped
    assert annotations["prow.k8s.io/job"] == long_name             # annotation keeps it whole
    assert labels["prow.k8s.io/context"] == "x"                    # invalid → path basename
    assert labels["path"] == "ok"
    assert "bad" not in labels                                     # invalid, basename invalid → dropped


def test_build_ids_are_unique_increasing_and_snowflake_shaped():
    gen = buildid.Snowflake(node=1)
    ids = [gen.next_int() for _ in range(10000)]                  # > 4096 per ms forces the next ms
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert len(str(ids[0])) >= 19
    assert (ids[0] >> 12) & 0x3FF == 1
    frozen = buildid.Snowflake(node=3, clock_ms=lambda: 1_800_000_000_000)
    assert buildid.timestamp_ms(frozen.next()) == 1_800_000_000_000
    later = buildid.Snowflake(node=0, clock_ms=lambda: 1_800_000_000_001)
    assert int(later.next()) > int(frozen.next())                 # across processes: time orders them
    backwards = iter([1_800_000_000_010, 1_800_000_000_000])
    stepping = buildid.Snowflake(node=0, clock_ms=lambda: next(backwards))
    assert int(stepping.next()) < int(stepping.next())             # a clock stepping back does not repeat


def test_state_machine_completes_and_never_leaves_a_final_state():
    job = ProwJob(name="x", status={"state": TRIGGERED})
    job.set_state(PENDING, "Job triggered.")
    assert job.status["pendingTime"] and not job.complete
    job.set_state(SUCCESS, "Job succeeded.")
    assert job.complete
    with pytest.raises(InvalidTransition):
        job.set_state(ERROR, "late")
    with pytest.raises(InvalidTransition):
        ProwJob(name="y").set_state("finished")
