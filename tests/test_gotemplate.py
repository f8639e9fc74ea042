"""Go text/template subset: the corpora's templates render as Go renders them; others are config errors."""
from __future__ import annotations

import pytest
import yaml

from shared.cli import checkconfig
from shared.gotemplate import TemplateError, TemplateExecError, parse, render_for_job
from shared.jobs.joburl import job_url
from shared.jobs.model import ProwJob
from tests.conftest import CORPUS
from tests.config.test_checkconfig import corpus_args, run

KUBERNETES = yaml.safe_load((CORPUS / "prow-configs" / "kubernetes" / "config.yaml").read_text())["plank"]
METAL3 = yaml.safe_load((CORPUS / "prow-configs" / "metal3" / "config.yaml").read_text())["plank"]


def prowjob(job_type="presubmit", org="kubernetes-sigs", repo="foo", **status) -> dict:
    spec = {"type": job_type, "job": "pull-foo-test"}
    if job_type != "periodic":
        spec["refs"] = {"org": org, "repo": repo, "base_sha": "b" * 40,
                        "pulls": [{"number": 12, "author": "alice", "sha": "a" * 40}]}
    return {"metadata": {"name": "id-1"}, "spec": spec, "status": {"build_id": "1826", **status}}


@pytest.mark.parametrize("job_type,org,repo,expected", [
    ("presubmit", "kubernetes-sigs", "foo", "pr-logs/pull/sigs.k8s.io_foo/12/pull-foo-test/1826/"),
    ("presubmit", "kubernetes", "kubernetes", "pr-logs/pull/12/pull-foo-test/1826/"),
    ("presubmit", "kubernetes", "test-infra", "pr-logs/pull/test-infra/12/pull-foo-test/1826/"),
    ("postsubmit", "etcd-io", "etcd", "logs/etcd-io_etcd/pull-foo-test/1826/"),
    ("periodic", "", "", "logs/pull-foo-test/1826/"),
])
def test_kubernetes_job_url_template(job_type, org, repo, expected):
    url = render_for_job(KUBERNETES["job_url_template"], prowjob(job_type, org, repo))
    assert url == "https://prow.k8s.io/view/gs/kubernetes-ci-logs/" + expected


def test_report_templates_of_both_corpora():
    pj = prowjob(org="metal3-io", repo="baremetal-operator")
    assert "pr-history?org=metal3-io&repo=baremetal-operator&pr=12)" in render_for_job(
        METAL3["report_templates"]["*"], pj)
    assert "author%3Aalice)" in render_for_job(KUBERNETES["report_templates"]["*"], pj)


def test_nil_refs_fail_at_execution_as_in_go():
    with pytest.raises(TemplateExecError):
        render_for_job("{{.Spec.Refs.Org}}", prowjob("periodic"))
    assert render_for_job("{{if .Spec.Refs}}x{{else}}none{{end}}", prowjob("periodic")) == "none"


@pytest.mark.parametrize("text", ["{{range .Spec.Refs.Pulls}}{{.Number}}{{end}}", "{{printf \"%d\" 1}}",
                                  "{{.Spec.Job | html}}", "{{if .Spec.Job}}open", "{{end}}", "{{template \"x\"}}"])
def test_templates_outside_the_subset_are_rejected(text):
    with pytest.raises(TemplateError):
        parse(text)


def test_checkconfig_reports_an_unsupported_template_with_file_and_line(capsys, tmp_path):
    source = (CORPUS / "prow-configs" / "metal3" / "config.yaml").read_text()
    assert "  report_templates:\n" in source
    config = tmp_path / "config.yaml"
    config.write_text(source.replace("  report_templates:\n",
                                     "  job_url_template: '{{range .Spec.Refs.Pulls}}x{{end}}'\n  report_templates:\n", 1))
    line = config.read_text().splitlines().index("  job_url_template: '{{range .Spec.Refs.Pulls}}x{{end}}'") + 1
    code, out = run(capsys, ["--config-path", str(config)])
    assert code == 1
    assert f"{config}:{line}: error: plank.job_url_template: {{{{range}}}} is not supported" in out


def test_decorated_job_url_from_the_prefix_config():
    job = ProwJob.from_dict({"metadata": {"name": "id-1"}, "spec": {
        "type": "presubmit", "job": "gomod", "refs": {"org": "metal3-io", "repo": "baremetal-operator",
                                                      "pulls": [{"number": 2345}]},
        "decoration_config": {"gcs_configuration": {"bucket": "s3://prow-logs", "path_strategy": "explicit"}}},
        "status": {"build_id": "1826"}})
    plank = {"job_url_prefix_config": {"*": "https://prow.apps.test.metal3.io/view/"}}
    assert job_url(job, plank) == ("https://prow.apps.test.metal3.io/view/s3/prow-logs/pr-logs/pull/"
                                   "metal3-io_baremetal-operator/2345/gomod/1826")
    assert job_url(job, {**plank, "jobURLPrefixDisableAppendStorageProvider": True}).startswith(
        "https://prow.apps.test.metal3.io/view/prow-logs/pr-logs/")
    assert job_url(job, {}, dashboard_url="https://dash.example/") == (
        "https://dash.example/view/s3/prow-logs/pr-logs/pull/metal3-io_baremetal-operator/2345/gomod/1826")
    undecorated = ProwJob.from_dict({"metadata": {"name": "id-2"}, "spec": {"type": "periodic", "job": "p"}})
    assert job_url(undecorated, {}, dashboard_url="https://dash.example") == "https://dash.example/prowjob?prowjob=id-2"
    assert job_url(undecorated, {"job_url_template": "https://x/{{.Spec.Job}}/{{.Status.BuildID}}"}) == "https://x/p/"
