"""config-updater end to end: a merged PR in the config repo goes through hook → dispatch; the app's
config blobs on Azurite change (or, when the new config does not pass checkconfig, do not) and the PR
gets Prow's reply (or the errors)."""
import gzip

import pytest

from shared.plugins.config_updater import MapSpec, map_specs, updates_for
from shared.plugins.respond import format_response_raw
from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/infra"
CONFIG = "prowjob_namespace: prow\npod_namespace: test-pods\n"
JOB = """presubmits:
  org/app:
  - name: {name}
    always_run: true
    spec: {{containers: [{{image: alpine}}]}}
"""
PLUGINS = """plugins:
  org/infra:
    plugins: [config-updater]
config_updater:
  maps:
    prow/config/config.yaml: {name: config}
    prow/config/plugins.yaml: {name: plugins}
    prow/config/labels.yaml: {name: label-config}
    prow/config/jobs/**/*.yaml: {name: job-config}
    prow/config/big/*.yaml: {name: job-config, gzip: true}
"""


@pytest.fixture
def storage(prow, unique_name, monkeypatch):
    """The app reads its config from blobs: config.yaml and plugins.yaml at the root of a container,
    job files under jobs/."""
    from azure.storage.blob import BlobServiceClient
    container = unique_name("cfg")
    service = BlobServiceClient.from_connection_string(prow.connection_string).get_container_client(container)
    service.create_container()
    for name, text in {"config.yaml": CONFIG, "plugins.yaml": PLUGINS,
                       "jobs/old.yaml": JOB.format(name="old-job")}.items():
        service.upload_blob(name, text.encode())
    monkeypatch.setenv("PROW_CONFIG_PATH", f"blob://{container}/config.yaml")
    monkeypatch.setenv("PROW_PLUGIN_CONFIG_PATH", f"blob://{container}/plugins.yaml")
    monkeypatch.setenv("PROW_JOB_CONFIG_PATH", f"blob://{container}/jobs")
    prow.gh.add_repo(REPO)
    return service


def blobs(storage) -> dict[str, bytes]:
    return {b.name: storage.download_blob(b.name).readall() for b in storage.list_blobs()}


def merge(prow, files, *, delivery=None, body="Config change."):
    """Open a PR with `files`, merge it on the fake GitHub, deliver the `closed` event."""
    number = prow.gh.add_pull(REPO, author="carol", body=body, files=files)
    prow.gh.github().get_repo(REPO).get_pull(number).merge()
    event = closed_event(prow, number, body=body)
    prow.gh.clear_log()
    prow.post("pull_request", event, delivery=delivery)
    prow.settle()
    return number, event


def closed_event(prow, number, *, merged=True, base="main", body="Config change."):
    event = payloads.pull_request_event(REPO, number, action="closed", author="carol", body=body, base=base,
                                        state="closed")
    event["pull_request"].update(merged=merged, merge_commit_sha=prow.gh.pull(REPO, number).merge_commit_sha
                                 if merged else None)
    return event


def reply(event, text):
    pr = event["pull_request"]
    return format_response_raw(pr["body"], pr["html_url"], "carol", text)


def test_a_merged_change_is_published_where_the_app_reads_it(prow, storage):
    new_config = CONFIG + "log_level: debug\n"
    number, event = merge(prow, [
        {"filename": "prow/config/config.yaml", "content": new_config},
        {"filename": "prow/config/jobs/app/new.yaml", "status": "added", "content": JOB.format(name="new-job")},
        {"filename": "prow/config/labels.yaml", "content": "default: {}\n"},      # not read by this app
        {"filename": "README.md", "content": "docs\n"},
    ])

    stored = blobs(storage)
    assert stored["config.yaml"] == new_config.encode()
    assert stored["jobs/new.yaml"] == JOB.format(name="new-job").encode()
    assert "labels.yaml" not in stored and "README.md" not in stored
    c = storage.container_name
    assert [c.body for c in prow.gh.comments(REPO, number)] == [reply(event, (
        "Updated the following 2 configmaps:\n"
        f" * `config` configmap in `blob://{c}/` using the following files:\n"
        "   - key `config.yaml` using file `prow/config/config.yaml`\n"
        f" * `job-config` configmap in `blob://{c}/jobs/` using the following files:\n"
        "   - key `new.yaml` using file `prow/config/jobs/app/new.yaml`\n"))]
    from shared.config.source import default_source
    loaded = default_source().get_config()
    assert sorted(j.name for j in loaded.jobs.presubmits_for("org/app")) == ["new-job", "old-job"]


def test_a_config_that_does_not_pass_checkconfig_is_not_written_and_the_pr_is_told_why(prow, storage):
    before = blobs(storage)
    bad_job = "presubmits:\n  org/app:\n  - name: broken\n    run_if_changed: '(unclosed'\n    spec: {containers: [{image: a}]}\n"
    number, event = merge(prow, [
        {"filename": "prow/config/jobs/bad.yaml", "status": "added", "content": bad_job},
        {"filename": "prow/config/plugins.yaml", "content": PLUGINS.replace("[config-updater]", "[config-updatr]")},
    ])

    assert blobs(storage) == before
    [comment] = prow.gh.comments(REPO, number)
    assert comment.body.startswith("@carol: The configuration changed here was not applied: it does not pass "
                                   "checkconfig (2 error(s)). The app keeps serving the previous configuration.")
    assert "\nprow/config/jobs/bad.yaml:4: " in comment.body
    assert "\nprow/config/plugins.yaml:3: unknown plugin 'config-updatr'" in comment.body
    assert "blob://" not in comment.body.split("<details>")[0]


def test_a_removed_file_deletes_its_key_and_gzip_is_honoured(prow, storage):
    big = JOB.format(name="big-job")
    merge(prow, [{"filename": "prow/config/jobs/old.yaml", "status": "removed"},
                 {"filename": "prow/config/big/big.yaml", "status": "added", "content": big}])

    stored = blobs(storage)
    assert "jobs/old.yaml" not in stored
    assert gzip.decompress(stored["jobs/big.yaml"]) == big.encode()
    from shared.config.source import default_source
    assert [j.name for j in default_source().get_config().jobs.presubmits_for("org/app")] == ["big-job"]


def test_the_same_delivery_twice_writes_once_and_comments_once(prow, storage):
    files = [{"filename": "prow/config/config.yaml", "content": CONFIG + "log_level: info\n"}]
    number, event = merge(prow, files, delivery="delivery-config-1")
    etag = storage.get_blob_client("config.yaml").get_blob_properties().etag
    prow.post("pull_request", event, delivery="delivery-config-1")
    prow.settle()
    assert storage.get_blob_client("config.yaml").get_blob_properties().etag == etag
    assert len(prow.gh.comments(REPO, number)) == 1


def test_a_retry_after_a_failed_reply_writes_nothing_again(prow, storage):
    prow.gh.fail("POST", "/repos/org/infra/issues/*/comments", status=502)
    number, event = merge(prow, [{"filename": "prow/config/config.yaml", "content": CONFIG + "log_level: warn\n"}])
    assert blobs(storage)["config.yaml"].endswith(b"log_level: warn\n")
    assert len(prow.gh.comments(REPO, number)) == 1
    assert prow.gh.count("POST", "/repos/org/infra/issues/*/comments") == 2


@pytest.mark.parametrize("merged, base", [(False, "main"), (True, "release-1.0")])
def test_only_merges_into_the_default_branch_count(prow, storage, merged, base):
    before = blobs(storage)
    prow.gh.add_branch(REPO, "release-1.0")
    number = prow.gh.add_pull(REPO, author="carol", base=base,
                              files=[{"filename": "prow/config/config.yaml", "content": "x: 1\n"}])
    prow.gh.clear_log()
    prow.post("pull_request", closed_event(prow, number, merged=merged, base=base))
    prow.settle()
    assert blobs(storage) == before
    assert prow.gh.log == []


def test_file_matching_follows_prow():
    specs = [MapSpec("prow/jobs/**/*.{yaml,yml}", "job-config"), MapSpec("prow/config.yaml", "config"),
             MapSpec("prow/*.yaml", "other", use_full_path_as_key=True), MapSpec("x/data.yaml", "data", key="this")]
    changes = [{"filename": "prow/jobs/a.yaml"}, {"filename": "prow/jobs/a/b/c.yml"}, {"filename": "prow/jobsx.yaml"},
               {"filename": "prow/config.yaml"}, {"filename": "prow/p.yaml", "status": "renamed",
                                                  "previous_filename": "prow/q.yaml"},
               {"filename": "x/data.yaml", "status": "removed"}]
    assert [(u.configmap, u.key, u.filename) for u in updates_for(specs, changes)] == [
        ("job-config", "a.yaml", "prow/jobs/a.yaml"), ("job-config", "c.yml", "prow/jobs/a/b/c.yml"),
        ("other", "prow-jobsx.yaml", "prow/jobsx.yaml"), ("config", "config.yaml", "prow/config.yaml"),
        ("other", "prow-q.yaml", ""), ("other", "prow-p.yaml", "prow/p.yaml"), ("data", "this", "")]


def test_prows_default_maps_without_config():
    assert [(s.pattern, s.name) for s in map_specs(None)] == [
        ("config/prow/config.yaml", "config"), ("config/prow/plugins.yaml", "plugins")]


def test_a_maps_repository_acl_is_respected():
    specs = [MapSpec("a.yaml", "config", allowed_repos=("org",), denied_repos=("org/fork",))]
    changes = [{"filename": "a.yaml"}]
    assert [u.key for u in updates_for(specs, changes, "org/infra")] == ["a.yaml"]
    assert updates_for(specs, changes, "org/fork") == []
    assert updates_for(specs, changes, "other/infra") == []
