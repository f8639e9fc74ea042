"""Prow's bucket layout (spec §5.5): run directories, pointers and the directory alias."""
import pytest

from shared.artifacts.paths import Layout, LayoutError, repo_segment, split_bucket

BUILD = "1826000000000000000"


def presubmit(org="metal3-io", repo="baremetal-operator", job="gomod", **gcs):
    return Layout.for_job({"bucket": "s3://prow-logs", **gcs},
                          {"type": "presubmit", "job": job, "buildid": BUILD,
                           "refs": {"org": org, "repo": repo, "base_ref": "main", "pulls": [{"number": 2345}]}})


@pytest.mark.parametrize("strategy, org, repo, segment", [
    ("explicit", "metal3-io", "baremetal-operator", "metal3-io_baremetal-operator"),
    ("explicit", "kubernetes", "kubernetes", "kubernetes_kubernetes"),
    ("legacy", "kubernetes", "kubernetes", ""),                 # default org and repo
    ("legacy", "kubernetes", "test-infra", "test-infra"),       # default org
    ("legacy", "kubernetes-sigs", "kind", "kubernetes-sigs_kind"),
    ("single", "kubernetes", "kubernetes", ""),
    ("single", "kubernetes", "test-infra", "kubernetes_test-infra"),
    ("single", "kubernetes-sigs", "kind", "kubernetes-sigs_kind"),
    ("explicit", "https://gerrit.example.com", "a/b", "gerrit.example.com_a_b"),
])
def test_repo_segment_by_path_strategy(strategy, org, repo, segment):
    assert repo_segment(org, repo, strategy, "kubernetes", "kubernetes") == segment


def test_the_spec_example_presubmit_under_explicit():
    where = presubmit(path_strategy="explicit")
    assert where.container == "prow-logs"
    assert where.run_dir == f"pr-logs/pull/metal3-io_baremetal-operator/2345/gomod/{BUILD}"
    assert where.path("started.json") == f"{where.run_dir}/started.json"
    assert where.latest_build_paths == ["pr-logs/directory/gomod/latest-build.txt",
                                        "pr-logs/pull/metal3-io_baremetal-operator/2345/gomod/latest-build.txt"]
    assert where.alias_path == f"pr-logs/directory/gomod/{BUILD}.txt"
    assert where.run_url == f"s3://prow-logs/pr-logs/pull/metal3-io_baremetal-operator/2345/gomod/{BUILD}"


def test_an_empty_segment_collapses():
    where = presubmit("kubernetes", "kubernetes", "pull-unit", path_strategy="legacy",
                      default_org="kubernetes", default_repo="kubernetes")
    assert where.run_dir == f"pr-logs/pull/2345/pull-unit/{BUILD}"
    assert where.latest_build_paths[1] == "pr-logs/pull/2345/pull-unit/latest-build.txt"


@pytest.mark.parametrize("job_type, run_dir, latest, alias", [
    ("postsubmit", f"logs/post-job/{BUILD}", ["logs/post-job/latest-build.txt"], None),
    ("periodic", f"logs/post-job/{BUILD}", ["logs/post-job/latest-build.txt"], None),
    ("batch", f"pr-logs/pull/batch/post-job/{BUILD}", ["pr-logs/directory/post-job/latest-build.txt"], None),
])
def test_other_job_types(job_type, run_dir, latest, alias):
    spec = {"type": job_type, "job": "post-job", "buildid": BUILD}
    if job_type != "periodic":
        spec["refs"] = {"org": "o", "repo": "r", "base_ref": "main", "pulls": [{"number": 1}, {"number": 2}]}
    where = Layout.for_job({"bucket": "prow-logs", "path_strategy": "explicit"}, spec)
    assert (where.run_dir, where.latest_build_paths, where.alias_path) == (run_dir, latest, alias)


def test_path_prefix_applies_to_the_run_directory_only():
    where = presubmit(path_strategy="explicit", path_prefix="tenant-a")
    assert where.run_dir.startswith("tenant-a/pr-logs/pull/")
    assert where.latest_build_paths[0] == "pr-logs/directory/gomod/latest-build.txt"
    assert where.alias_path == f"pr-logs/directory/gomod/{BUILD}.txt"
    assert where.run_url == f"s3://prow-logs/{where.run_dir}"


@pytest.mark.parametrize("bucket, scheme, container", [
    ("gs://x-logs", "gs", "x-logs"), ("s3://x-logs", "s3", "x-logs"), ("x-logs", "gs", "x-logs"),
    ("gs://x-logs/sub", "gs", "x-logs"),
])
def test_every_bucket_form_means_the_container(bucket, scheme, container):
    assert split_bucket(bucket) == (scheme, container)


def test_bad_inputs_say_what_is_missing():
    with pytest.raises(LayoutError, match="bucket is not set"):
        Layout.for_job({}, {"type": "periodic", "job": "j", "buildid": "1"})
    with pytest.raises(LayoutError, match="no build id"):
        Layout.for_job({"bucket": "b-logs"}, {"type": "periodic", "job": "j"})
    with pytest.raises(LayoutError, match="path_strategy 'odd'"):
        presubmit(path_strategy="odd").run_dir
