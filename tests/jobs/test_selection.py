"""Job selection (shared/jobs/selection.py) as Prow's pkg/pjutil/filter.go and Presubmit.ShouldRun decide
it: table tests over an inline job config, then the kubernetes corpus's busiest repo."""
from __future__ import annotations

from pathlib import Path

import pytest

from shared.config.errors import Diagnostics
from shared.config.jobs import build_job_config
from shared.config.yamlnodes import load_yaml
from shared.jobs import selection
from shared.jobs.selection import ChangedFiles, comment_filter, filter_presubmits
from shared.jobs.selection import test_all_filter as every_automatic_job
from tests.conftest import CORPUS as SHARED_CORPUS

CORPUS = SHARED_CORPUS / "prow-configs"
SPEC = "    spec: {containers: [{image: alpine}]}\n"
JOBS = {
    "unit": "always_run: true",
    "docs": "run_if_changed: '^docs/'",
    "code": "skip_if_only_changed: '\\.md$'",
    "e2e": "",                                                   # required, runs on request only
    "perf": "optional: true",                                    # optional, runs on request only
    "lint": "always_run: true\n    optional: true",
    "release-only": "always_run: true\n    branches: ['^release-']",
    "not-release": "always_run: true\n    skip_branches: ['^release-']",
    "custom": "trigger: '(?m)^/run-custom\\s*$'\n    rerun_command: /run-custom",
    "ctx": "always_run: true\n    context: ci/ctx",
    "docs-optional": "run_if_changed: '^docs/'\n    optional: true",
}
ALL = set(JOBS) - {"ctx"} | {"ci/ctx"}                          # every context (ctx reports as ci/ctx)


@pytest.fixture(scope="module")
def presubmits():
    text = "presubmits:\n  org/repo:\n" + "".join(
        f"  - name: {name}\n" + (f"    {fields}\n" if fields else "") + SPEC for name, fields in JOBS.items())
    diags = Diagnostics()
    config = build_job_config(None, "config.yaml", [("jobs.yaml", load_yaml(text, "jobs.yaml")[0])], diags)
    assert not diags.errors, diags.errors
    return config.presubmits_for("org/repo")


def select(presubmits, body: str, *, branch: str = "main", changes=("main.go",), failed=(), seen=None,
           honor_ok_to_test: bool = True) -> set[str]:
    contexts = lambda: (set(failed), set(failed if seen is None else seen))  # noqa: E731
    chosen = comment_filter(body, contexts=contexts, honor_ok_to_test=honor_ok_to_test)
    return {job.name for job in filter_presubmits(presubmits, chosen, branch=branch, changes=ChangedFiles.of(changes))}


AUTOMATIC_ON_MAIN = {"unit", "code", "lint", "not-release", "ctx"}      # for a change to main.go

CASES = [
    # (body, branch, changed files, failed contexts, contexts with a status (None: the failed ones), expected)
    ("/test e2e", "main", ["main.go"], (), None, {"e2e"}),
    ("/test docs", "main", ["main.go"], (), None, {"docs"}),                 # named: forced past its files
    ("/test unit e2e", "main", ["main.go"], (), None, {"unit", "e2e"}),
    ("/test e2e,", "main", ["main.go"], (), None, {"e2e"}),
    ("/test e2e-fast", "main", ["main.go"], (), None, set()),                # the name must end there
    ("/test release-only", "main", ["main.go"], (), None, set()),            # forced, but not on this branch
    ("/test  e2e", "main", ["main.go"], (), None, {"e2e"}),
    ("please /test e2e", "main", ["main.go"], (), None, set()),              # commands start a line
    ("lgtm\n/test perf\nthanks", "main", ["main.go"], (), None, {"perf"}),
    ("/test all", "main", ["main.go"], (), None, AUTOMATIC_ON_MAIN),
    ("/test all", "main", ["docs/a.md"], (), None, {"unit", "docs", "lint", "not-release", "ctx", "docs-optional"}),
    ("/test all", "release-1.0", ["docs/a.md"], (), None, {"unit", "docs", "lint", "release-only", "ctx",
                                                            "docs-optional"}),
    ("/test all", "main", [], (), None, {"unit", "lint", "not-release", "ctx"}),   # no files: no file-filter job
    ("/test all e2e", "main", ["main.go"], (), None, AUTOMATIC_ON_MAIN | {"e2e"}),
    ("/test all,", "main", ["main.go"], (), None, AUTOMATIC_ON_MAIN),
    ("/ok-to-test", "main", ["main.go"], (), None, AUTOMATIC_ON_MAIN),
    ("/test custom", "main", ["main.go"], (), None, set()),                  # a custom trigger replaces /test
    ("/run-custom", "main", ["main.go"], (), None, {"custom"}),
    # /retest: failed contexts (forced by default past their files) and automatic jobs with no status yet
    ("/retest", "main", ["main.go"], ("unit", "e2e"), ALL - {"release-only"}, {"unit", "e2e"}),
    ("/retest", "main", ["main.go"], ("docs",), ALL, {"docs"}),               # failed: runs though docs/ untouched
    ("/retest", "main", ["main.go"], ("unit",), {"unit"}, {"unit", "code", "lint", "not-release", "ctx"}),
    ("/retest", "main", ["main.go"], ("ctx",), ALL, set()),                  # the context, not the name, counts
    ("/retest", "main", ["main.go"], (), ALL - {"ci/ctx"}, {"ctx"}),
    ("/retest", "main", ["main.go"], ("ci/ctx",), ALL, {"ctx"}),
    ("/retest", "main", ["main.go"], (), set(), AUTOMATIC_ON_MAIN),          # nothing reported yet
    ("/retest", "main", ["main.go"], ("perf",), ALL, {"perf"}),              # a failed on-request job too
    ("/retest", "release-1.0", ["main.go"], ("not-release",), ALL, set()),   # not on this branch
    ("/retest\n", "main", ["main.go"], ("unit",), ALL, {"unit"}),
    ("/retest unit", "main", ["main.go"], ("unit",), ALL, set()),            # /retest takes no target
    # /retest-required: the same, required jobs only
    ("/retest-required", "main", ["main.go"], ("unit", "lint", "perf", "e2e"), ALL, {"unit", "e2e"}),
    ("/retest-required", "main", ["main.go"], (), {"unit"}, {"code", "not-release", "ctx"}),
    # /test-manual-required: required jobs that only run on request
    ("/test-manual-required", "main", ["main.go"], (), None, {"e2e", "custom"}),
    # code blocks are not dropped from the body the filters read (Prow passes gc.Body)
    ("/test e2e\n```\n/test perf\n```", "main", ["main.go"], (), None, {"e2e", "perf"}),
    ("", "main", ["main.go"], (), None, set()),
]


@pytest.mark.parametrize("body,branch,changes,failed,seen,expected", CASES)
def test_comment_selects_what_prow_selects(presubmits, body, branch, changes, failed, seen, expected):
    assert select(presubmits, body, branch=branch, changes=changes, failed=failed, seen=seen) == expected


def test_ok_to_test_selects_nothing_when_the_repo_ignores_it(presubmits):
    assert select(presubmits, "/ok-to-test", honor_ok_to_test=False) == set()
    assert select(presubmits, "/test all", honor_ok_to_test=False) == AUTOMATIC_ON_MAIN


def test_statuses_are_read_only_for_retest_forms_and_once(presubmits):
    reads = []

    def contexts():
        reads.append(1)
        return {"unit"}, {"unit"}

    for body in ("/test all", "/test e2e", "/ok-to-test", "/test-manual-required"):
        filter_presubmits(presubmits, comment_filter(body, contexts=contexts), branch="main",
                          changes=ChangedFiles.of(["a.go"]))
    assert reads == []
    filter_presubmits(presubmits, comment_filter("/retest\n/retest-required", contexts=contexts), branch="main",
                      changes=ChangedFiles.of(["a.go"]))
    assert reads == [1]


def test_changed_files_are_read_only_when_a_file_filter_decides(presubmits):
    calls = []
    changes = ChangedFiles(lambda: calls.append(1) or ["docs/x.md"])
    named = [job for job in presubmits if job.name in ("unit", "e2e", "docs")]
    filter_presubmits(named, comment_filter("/test e2e\n/test docs", contexts=lambda: (set(), set())), branch="main",
                      changes=changes)
    assert calls == [] and not changes.read                       # forced jobs do not look at files
    assert {j.name for j in filter_presubmits(named, every_automatic_job, branch="main", changes=changes)} == {"unit",
                                                                                                          "docs"}
    filter_presubmits(presubmits, every_automatic_job, branch="main", changes=changes)
    assert calls == [1]                                           # read once for all jobs and both calls


def test_help_notes_as_prow(presubmits):
    assert selection.help_note("/test ?", 0) == ""
    assert selection.help_note("/test", 0) == selection.TEST_WITHOUT_TARGET_NOTE
    assert selection.help_note("/retest e2e", 0) == selection.RETEST_WITH_TARGET_NOTE
    assert selection.help_note("/test all", 0) == selection.NO_TEST_ALL_JOBS_NOTE
    assert selection.help_note("/test nope", 0) == selection.TARGET_NOT_FOUND_NOTE
    assert selection.help_note("/test e2e", 1) is None and selection.help_note("/retest", 0) is None
    test_all, optional, required = selection.available_presubmits(presubmits, branch="main",
                                                                  changes=ChangedFiles.of(["main.go"]))
    assert test_all == AUTOMATIC_ON_MAIN
    assert optional == {"/test perf", "/test lint", "/test docs-optional"}
    assert required == {"/test unit", "/test docs", "/test code", "/test e2e", "/test not-release", "/test ctx",
                        "/run-custom"}                            # release-only is not for main
    message = selection.help_message("org", "repo", "main", "", test_all, optional, required)
    assert message.startswith("The following commands are available to trigger required jobs:\n```\n/run-custom\n```")
    assert message.endswith("Use `/test all` to run the following jobs that were automatically triggered:\n```\ncode\n```"
                            "\n```\nctx\n```\n```\nlint\n```\n```\nnot-release\n```\n```\nunit\n```\n\n")
    assert selection.help_message("org", "repo", "dev", "", set(), set(), set()) == \
        "No presubmit jobs available for org/repo@dev"


def test_code_blocks_are_dropped_for_command_detection():
    assert selection.drop_code_blocks("/retest\n```\n/test all\n```\n") == "/retest\n"
    assert selection.drop_code_blocks("~~~\n/retest\n~~~") == ""
    assert not selection.RETEST_RE.search(selection.drop_code_blocks("```\n/retest\n```"))


# -- the kubernetes corpus's busiest repo ------------------------------------------------------------

@pytest.fixture(scope="module")
def kubernetes():
    from shared.config import load_config
    config = load_config(str(CORPUS / "kubernetes" / "config.yaml"), str(CORPUS / "kubernetes" / "jobs"))
    repo, jobs = max(config.jobs.presubmits.items(), key=lambda item: len(item[1]))
    assert repo == "kubernetes/kubernetes"
    return jobs


def names(jobs, filter, branch, changes) -> list[str]:
    return sorted(job.name for job in filter_presubmits(jobs, filter, branch=branch, changes=ChangedFiles.of(changes)))


def test_kubernetes_test_all_on_master_runs_the_always_run_jobs_of_master_and_the_matching_file_filters(kubernetes):
    docs = names(kubernetes, every_automatic_job, "master", ["README.md"])
    always = sorted(j.name for j in kubernetes if j.always_run and j.could_run("master"))
    assert docs == always and "pull-kubernetes-unit" in docs
    kms = names(kubernetes, every_automatic_job, "master", ["staging/src/k8s.io/kms/apis/v2/api.pb.go"])
    assert set(kms) - set(always) == {"pull-kubernetes-e2e-kind-kms"}


def test_kubernetes_branch_regexes_pick_the_variant_of_the_release_branch(kubernetes):
    """`pull-kubernetes-kind-dra` exists once per release branch; only the one for the PR's base runs."""
    dra = ["staging/src/k8s.io/dynamic-resource-allocation/kubeletplugin/draplugin.go"]
    for branch in ("release-1.34", "release-1.35", "release-1.36"):
        chosen = [j for j in filter_presubmits(kubernetes, comment_filter("/test pull-kubernetes-kind-dra",
                                                                          contexts=lambda: (set(), set())),
                                               branch=branch, changes=ChangedFiles.of(dra))]
        assert [j.branches for j in chosen] == [(branch,)], branch
    kms = "/test pull-kubernetes-e2e-kind-kms"
    assert names(kubernetes, comment_filter(kms, contexts=lambda: (set(), set())), "release-1.26", []) == []
    assert names(kubernetes, comment_filter(kms, contexts=lambda: (set(), set())), "release-1.27", []) == [
        "pull-kubernetes-e2e-kind-kms"]


def test_kubernetes_skip_branches_keep_release_branches_out(kubernetes):
    api = ["api/openapi-spec/swagger.json"]
    assert "pull-kubernetes-audit-kind-conformance" in names(kubernetes, every_automatic_job, "master", api)
    assert "pull-kubernetes-audit-kind-conformance" not in names(kubernetes, every_automatic_job, "release-1.30", api)


def test_kubernetes_retest_reruns_failed_contexts_and_unreported_automatic_jobs(kubernetes):
    always = {j.context for j in kubernetes if j.always_run and j.could_run("master")}
    reported = always - {"pull-kubernetes-verify"}
    chosen = comment_filter("/retest", contexts=lambda: ({"pull-kubernetes-unit", "pull-kubernetes-e2e-kind-kms"},
                                                         reported | {"pull-kubernetes-e2e-kind-kms"}))
    assert names(kubernetes, chosen, "master", ["README.md"]) == sorted(
        {"pull-kubernetes-unit", "pull-kubernetes-verify", "pull-kubernetes-e2e-kind-kms"})
