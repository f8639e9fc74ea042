"""started.json / finished.json with Prow's keys, order and value casing (spec §5.6)."""
import json

from shared.artifacts import records

BASE, PR, MERGED = "b" * 40, "a" * 40, "c" * 40
JOB_SPEC = {"type": "presubmit", "job": "gomod", "buildid": "1",
            "refs": {"org": "metal3-io", "repo": "baremetal-operator", "base_ref": "main", "base_sha": BASE,
                     "pulls": [{"number": 2345, "sha": PR}]},
            "extra_refs": [{"org": "metal3-io", "repo": "project-infra", "base_ref": "main"}]}


def test_started_has_prows_keys_in_order_with_the_sha_the_clone_got():
    clone = [{"refs": {"org": "metal3-io", "repo": "baremetal-operator"}, "final_sha": MERGED},
             {"refs": {"org": "metal3-io", "repo": "project-infra"}, "final_sha": "d" * 40}]
    doc = records.started(JOB_SPEC, 1724234400, clone_records=clone)
    assert list(doc) == ["timestamp", "pull", "repos", "repo-commit", "repo-version"]
    assert doc == {"timestamp": 1724234400, "pull": "2345",
                   "repos": {"metal3-io/baremetal-operator": f"main:{BASE},2345:{PR}",
                             "metal3-io/project-infra": "main"},
                   "repo-commit": MERGED, "repo-version": MERGED}
    assert records.dumps(doc).startswith('{"timestamp":1724234400,"pull":"2345","repos":')


def test_started_without_a_clone_falls_back_to_pull_then_base():
    assert records.started(JOB_SPEC, 1)["repo-commit"] == PR
    postsubmit = {"type": "postsubmit", "refs": {"org": "o", "repo": "r", "base_ref": "main", "base_sha": BASE}}
    doc = records.started(postsubmit, 1)
    assert "pull" not in doc and doc["repo-commit"] == BASE
    periodic = records.started({"type": "periodic"}, 5)
    assert periodic == {"timestamp": 5}


def test_results_from_exit_codes():
    assert records.result_of([0]) == (True, "SUCCESS")
    assert records.result_of([0, 1]) == (False, "FAILURE")
    assert records.result_of([127]) == (False, "FAILURE")       # timed out
    assert records.result_of([1, 130]) == (False, "ABORTED")
    assert records.result_of([]) == (False, "FAILURE")


def test_finished_shape_and_the_crier_fallback():
    doc = records.finished(10, False, "FAILURE", metadata={"k": "v"}, revision=PR)
    assert list(doc) == ["timestamp", "passed", "metadata", "result", "revision"]
    assert list(records.finished(10, True, "SUCCESS")) == ["timestamp", "passed", "result"]
    fallback = records.crier_finished("error", 20)
    assert fallback == {"timestamp": 20, "passed": False, "metadata": {"uploader": "crier"}, "result": "error"}
    assert records.crier_finished("success", 20)["passed"] is True


def test_clone_log_text_shows_failed_commands():
    clone = [{"refs": {"org": "o", "repo": "r", "base_ref": "main"}, "failed": True,
              "commands": [{"command": "git fetch origin main", "output": "fatal: no route", "error": "exit 128"}]}]
    text = records.format_clone_log(clone)
    assert "o/r at main: FAILED" in text and "$ git fetch origin main" in text and "exit 128" in text
    assert records.clone_failed(clone) and not records.clone_failed(json.loads('[{"failed": false}]'))
