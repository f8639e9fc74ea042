"""load_config: every file read, every problem collected with file:line, notices for what differs."""
from __future__ import annotations

import gzip
import shutil
import textwrap
from pathlib import Path

import pytest

from shared.config.loader import DEFAULT_WARNINGS, load_config
from tests.conftest import CORPUS

METAL3 = CORPUS / "prow-configs" / "metal3"


def write(path: Path, text: str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


JOB = """
presubmits:
  acme/widgets:
  - name: unit
    always_run: true
    spec:
      containers:
      - image: golang:1.22
"""


@pytest.fixture(scope="module")
def metal3():
    return load_config(str(METAL3 / "config.yaml"), str(METAL3 / "jobs"), str(METAL3 / "plugins.yaml"))


def test_metal3_loads_without_errors(metal3):
    assert metal3.errors == [], metal3.errors
    assert metal3.prow.prowjob_namespace == "prow"
    assert metal3.prow.pod_namespace == "test-pods"
    assert sum(len(jobs) for jobs in metal3.jobs.presubmits.values()) == 628
    assert sum(len(jobs) for jobs in metal3.jobs.postsubmits.values()) == 0
    assert len(metal3.jobs.periodics) == 4
    assert "config-updater" in metal3.plugins.plugins_for("metal3-io", "project-infra")
    assert len(metal3.files) == 43  # config.yaml, 41 job files, plugins.yaml


def test_metal3_summarises_jenkins_jobs_in_one_notice(metal3):
    jenkins = [d for d in metal3.notices if "agent jenkins" in d.message]
    assert len(jenkins) == 1
    assert jenkins[0].message.startswith("421 job(s) use agent jenkins")
    assert jenkins[0].file.endswith(".yaml") and jenkins[0].line


def test_metal3_notes_the_ignored_s3_credentials_secret(metal3):
    secrets = [d for d in metal3.notices if "s3_credentials_secret" in d.message]
    assert [(Path(d.file).name, d.line) for d in secrets] == [("config.yaml", 25)]
    assert "s3-credentials" in secrets[0].message


def test_missing_paths_are_all_reported(tmp_path):
    loaded = load_config(str(tmp_path / "nope.yaml"), str(tmp_path / "jobs"), str(tmp_path / "plugins.yaml"))
    assert [(Path(d.file).name, d.message) for d in loaded.errors] == [
        ("nope.yaml", "config file does not exist"),
        ("jobs", "job config path does not exist"),
        ("plugins.yaml", "plugin config file does not exist"),
    ]


def test_directory_as_config_is_an_error(tmp_path):
    loaded = load_config(str(tmp_path))
    assert [d.message for d in loaded.errors] == ["the prow config must be a file, not a directory"]


def test_yaml_syntax_errors_do_not_stop_the_other_files(tmp_path):
    config = write(tmp_path / "config.yaml", "tide:\n  queries: [\n")
    write(tmp_path / "jobs" / "good.yaml", JOB)
    bad = write(tmp_path / "jobs" / "bad.yaml", "presubmits:\n  acme/x:\n  - name: a\n    branches: [main\n")
    plugins = write(tmp_path / "plugins.yaml", "plugins:\n  acme: [lgtm]\n  acme/widgets: [lgtm]\n")
    loaded = load_config(config, str(tmp_path / "jobs"), plugins)
    by_file = {Path(d.file).name: d for d in loaded.errors}
    assert set(by_file) == {"config.yaml", "bad.yaml", "plugins.yaml"}
    assert by_file["config.yaml"].line and by_file["config.yaml"].message.startswith("invalid YAML")
    assert by_file["bad.yaml"].file == bad and by_file["bad.yaml"].line
    assert by_file["plugins.yaml"].line == 3
    assert list(loaded.jobs.presubmits) == ["acme/widgets"]


def test_a_job_file_must_be_a_mapping(tmp_path):
    config = write(tmp_path / "config.yaml", "pod_namespace: pods\n")
    write(tmp_path / "jobs" / "list.yaml", "- name: unit\n")
    loaded = load_config(config, str(tmp_path / "jobs"))
    assert [(Path(d.file).name, d.line) for d in loaded.errors] == [("list.yaml", 1)]


def test_duplicate_keys_keep_the_last_value_with_a_notice(tmp_path):
    config = write(tmp_path / "config.yaml", "pod_namespace: first\npod_namespace: second\n")
    loaded = load_config(config)
    assert loaded.errors == []
    assert loaded.prow.pod_namespace == "second"
    assert [(d.line, d.severity) for d in loaded.diagnostics if "duplicate key" in d.message] == [(2, "notice")]


def test_namespaces_default_as_in_prow(tmp_path):
    loaded = load_config(write(tmp_path / "config.yaml", "log_level: info\n"))
    assert (loaded.prow.prowjob_namespace, loaded.prow.pod_namespace) == ("default", "default")


def test_unknown_fields_in_config_and_plugins_by_default_in_jobs_only_with_unknown_fields_all(tmp_path):
    config = write(tmp_path / "config.yaml", "sinker:\n  resync_perod: 1m\nprow_ignored:\n  anything: 1\n")
    write(tmp_path / "jobs" / "jobs.yaml", JOB.replace("always_run: true", "always_run: true\n    alwaysrun: true"))
    plugins = write(tmp_path / "plugins.yaml", "plugins:\n  acme: [lgtm]\nlgtm_config: {}\n")

    default = load_config(config, str(tmp_path / "jobs"), plugins)
    assert default.errors == []
    assert sorted((Path(d.file).name, d.line, d.kind) for d in default.warnings) == [
        ("config.yaml", 2, "unknown-fields"), ("plugins.yaml", 3, "unknown-fields")]

    everything = load_config(config, str(tmp_path / "jobs"), plugins,
                             warnings=[*DEFAULT_WARNINGS, "unknown-fields-all"])
    assert sorted((Path(d.file).name, d.line) for d in everything.warnings) == [
        ("config.yaml", 2), ("jobs.yaml", 5), ("plugins.yaml", 3)]

    none = load_config(config, str(tmp_path / "jobs"), plugins, warnings=())
    assert none.warnings == []


def test_gzipped_job_files_are_read(tmp_path):
    config = write(tmp_path / "config.yaml", "pod_namespace: pods\n")
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / "jobs.yaml").write_bytes(gzip.compress(textwrap.dedent(JOB).encode()))
    loaded = load_config(config, str(tmp_path / "jobs"))
    assert loaded.errors == []
    assert [job.name for job in loaded.jobs.presubmits["acme/widgets"]] == ["unit"]


def test_single_job_file_and_other_agents(tmp_path):
    config = write(tmp_path / "config.yaml", "pod_namespace: pods\n")
    jobs = write(tmp_path / "jobs.yaml", JOB + (
        "  - name: pipeline\n    agent: tekton-pipeline\n    always_run: false\n    pipeline_run_spec: {pipelineRef: {name: p}}\n"
        "  - name: legacy\n    agent: jenkins\n    always_run: false\n"))
    loaded = load_config(config, jobs)
    assert loaded.errors == []
    agents = sorted(d.message.split(" use agent ")[1].split(" ")[0] for d in loaded.notices if " use agent " in d.message)
    assert agents == ["jenkins", "tekton-pipeline"]


def test_a_copy_of_the_corpus_with_several_mistakes_reports_all(tmp_path):
    root = tmp_path / "metal3"
    shutil.copytree(METAL3, root)
    with open(root / "plugins.yaml", "a") as f:
        f.write("bogus_section: {}\n")
    (root / "jobs" / "broken.yaml").write_text("presubmits:\n  metal3-io/x:\n  - name: [\n")
    text = (root / "plugins.yaml").read_text().replace("  metal3-io/.github:\n",
                                                        "  metal3-io/.github:\n    plugins: [hold]\n")
    (root / "plugins.yaml").write_text(text)
    loaded = load_config(str(root / "config.yaml"), str(root / "jobs"), str(root / "plugins.yaml"))
    assert sorted(Path(d.file).name for d in loaded.errors) == ["broken.yaml", "plugins.yaml"]
    assert [Path(d.file).name for d in loaded.warnings] == ["plugins.yaml"]
    assert sum(len(jobs) for jobs in loaded.jobs.presubmits.values()) == 628
