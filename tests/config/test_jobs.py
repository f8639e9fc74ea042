"""Job configuration semantics: corpora, defaults, decoration, presets, validation, duplicates."""
import os
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from shared.config.decoration import (apply_default, container_name_problem, storage_location,
                                      suggest_container_name)
from shared.config.durations import (format_duration, parse_duration, parse_duration_ns,
                                     parse_prow_duration)
from shared.config.errors import Diagnostics
from shared.config.jobfiles import read_local_job_files
from shared.config.jobs import Brancher, build_job_config
from shared.config.regex import compile_re2
from shared.config.yamlnodes import load_yaml
from tests.conftest import CORPUS as SHARED_CORPUS

CORPUS = SHARED_CORPUS / "prow-configs"

CONFIG = """\
pod_namespace: test-pods
plank:
  default_decoration_configs:
    "*":
      gcs_configuration:
        bucket: s3://prow-logs
        path_strategy: explicit
      utility_images: {clonerefs: c:1, initupload: i:1, entrypoint: e:1, sidecar: s:1}
"""

SPEC = """\
    spec:
      containers:
      - image: alpine
        command: [make]
"""


def build(job_files: dict[str, str], config: str | None = CONFIG, **kwargs):
    diags = Diagnostics()
    prow_doc = load_yaml(config, "config.yaml")[0] if config else None
    docs = [(name, load_yaml(text, name)[0]) for name, text in job_files.items()]
    return build_job_config(prow_doc, "config.yaml", docs, diags, **kwargs), diags


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    found = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            found += 1
            if found == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in text")


def item(name: str, extra: str = "", spec: bool = True) -> str:
    """One more job for the list `presubmit()` starts."""
    return f"  - name: {name}\n    decorate: true\n{extra}" + (SPEC if spec else "")


def presubmit(name: str, extra: str = "", repo: str = "org/repo", spec: bool = True) -> str:
    return f"presubmits:\n  {repo}:\n" + item(name, extra, spec)


def load_corpus(name: str):
    root = CORPUS / name
    diags = Diagnostics()
    files = read_local_job_files(root / "jobs", diags)
    docs = [(str(root / "jobs" / f.path), load_yaml(f.data, str(root / "jobs" / f.path))[0]) for f in files]
    config_path = str(root / "config.yaml")
    prow_doc = load_yaml((root / "config.yaml").read_bytes(), config_path)[0]
    return build_job_config(prow_doc, config_path, docs, diags), diags, files


# -- corpora ---------------------------------------------------------------------------------------

def test_metal3_corpus_loads_with_the_census_counts():
    config, diags, files = load_corpus("metal3")
    assert diags.errors == [] and diags.items == []
    assert len(files) == 41
    assert len(config.all_presubmits()) == 628 and len(config.presubmits) == 16
    assert len({job.name for job in config.all_presubmits()}) == 152
    assert config.all_postsubmits() == [] and len(config.periodics) == 4
    assert config.counts_by_agent()["presubmits"] == Counter(kubernetes=207, jenkins=421)

    kube = [job for job in config.all_presubmits() if job.agent == "kubernetes"]
    assert all(job.decorate for job in kube)
    assert Counter((bool(j.run_if_changed), bool(j.skip_if_only_changed), j.always_run) for j in kube) == {
        (True, False, False): 108, (False, True, False): 87, (False, False, True): 12}
    jenkins = [job for job in config.all_presubmits() if job.agent == "jenkins"]
    assert all(not job.decorate and job.decoration_config is None and job.spec is None for job in jenkins)
    assert Counter(job.optional for job in jenkins) == {True: 404, False: 17}
    assert sum(1 for job in jenkins if job.labels.get("jenkins_operator") == "oci") == 237

    job = kube[0]
    assert job.context == job.name and job.cluster == "default" and job.namespace == "test-pods"
    assert job.rerun_command == f"/test {job.name}" and job.trigger_matches(f"/test {job.name}")
    assert job.decoration_config["gcs_configuration"] == {"bucket": "s3://prow-logs", "path_strategy": "explicit"}
    assert job.storage_container == "prow-logs" and config.storage_containers() == {"prow-logs"}

    periodics = {job.name: job for job in config.periodics}
    assert periodics["periodic-stale"].interval == timedelta(hours=1)
    assert periodics["autobump-prow-images"].cron == "0 0 1 * *"
    assert periodics["autobump-prow-images"].extra_refs[0]["repo"] == "project-infra"
    [secret] = config.ignored_credential_secrets
    assert (secret.key, secret.value) == ("s3_credentials_secret", "s3-credentials")
    assert secret.file.endswith("metal3/config.yaml") and secret.line == 25


def independent_counts(root: Path) -> tuple[int, int, int]:
    """Count job list entries with plain PyYAML, skipping the one file the corpus .prowignore lists."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    presubmits = postsubmits = periodics = 0
    for directory, _, names in os.walk(root / "jobs"):
        for name in names:
            path = os.path.join(directory, name)
            if not name.endswith((".yaml", ".yml")) or path.endswith("gcp/registry/default.yaml"):
                continue
            with open(path, "rb") as handle:
                doc = yaml.load(handle, Loader=loader) or {}
            presubmits += sum(len(jobs or []) for jobs in (doc.get("presubmits") or {}).values())
            postsubmits += sum(len(jobs or []) for jobs in (doc.get("postsubmits") or {}).values())
            periodics += len(doc.get("periodics") or [])
    return presubmits, postsubmits, periodics


def test_kubernetes_corpus_loads_without_errors():
    config, diags, files = load_corpus("kubernetes")
    assert diags.items == []
    assert len(files) == 601
    counts = (len(config.all_presubmits()), len(config.all_postsubmits()), len(config.periodics))
    assert counts == independent_counts(CORPUS / "kubernetes")
    assert counts == (2261, 253, 1335)
    # The corpus relies on one job name being reused on disjoint branches.
    kubernetes = Counter(job.name for job in config.presubmits["kubernetes/kubernetes"])
    assert kubernetes["pull-kubernetes-unit-fieldsv1string"] == 3
    assert config.storage_containers() == {"kubernetes-ci-logs"}
    # default_decoration_config_entries: the cluster entries blank the credentials secret.
    by_cluster = {job.cluster: job for job in config.all_jobs()}
    assert by_cluster["k8s-infra-aks-prow-build"].decoration_config["gcs_credentials_secret"] == ""
    assert by_cluster["eks-prow-build-cluster"].decoration_config["gcs_credentials_secret"] == "service-account"
    assert by_cluster["eks-prow-build-cluster"].decoration_config["timeout"] == "2h"


def test_kubernetes_corpus_builds_every_job_without_errors():
    # Its speed is a benchmark (`make bench`: under 3 s on one core), not a timed test.
    root = CORPUS / "kubernetes"
    files = read_local_job_files(root / "jobs", Diagnostics())
    docs = [(f.path, load_yaml(f.data, f.path)[0]) for f in files]
    diags = Diagnostics()
    config = build_job_config(load_yaml((root / "config.yaml").read_bytes(), "config.yaml")[0], "config.yaml",
                              docs, diags)
    assert not diags.errors
    counts = {kind: sum(len(v) for v in getattr(config, kind).values()) for kind in ("presubmits", "postsubmits")}
    assert counts == {"presubmits": 2261, "postsubmits": 253} and len(config.periodics) == 1335


# -- defaults --------------------------------------------------------------------------------------

def test_defaults():
    config, diags = build({"jobs.yaml": presubmit("pull-x")})
    assert not diags.items
    [job] = config.presubmits["org/repo"]
    assert (job.context, job.agent, job.cluster, job.namespace) == ("pull-x", "kubernetes", "default", "test-pods")
    assert job.trigger == "(?m)^/test( | .* )pull-x,?($|\\s.*)" and job.rerun_command == "/test pull-x"
    assert job.prowjob_defaults == {"tenant_id": "GlobalDefaultID"}
    assert job.needs_explicit_trigger() and job.context_required()


def test_namespace_defaults_to_default_without_pod_namespace():
    config, diags = build({"jobs.yaml": presubmit("pull-x", spec=False) + "    agent: jenkins\n    decorate: false\n"},
                          config=None)
    assert not diags.items
    assert config.all_presubmits()[0].namespace == "default"


def test_decorate_all_jobs_and_explicit_opt_out():
    jobs = ("presubmits:\n  org/repo:\n  - name: a\n" + SPEC +
            "  - name: b\n    decorate: false\n" + SPEC)
    config, diags = build({"jobs.yaml": jobs}, CONFIG + "decorate_all_jobs: true\n")
    assert not diags.items
    a, b = config.presubmits["org/repo"]
    assert a.decorate and a.decoration_config["utility_images"]["sidecar"] == "s:1"
    assert not b.decorate and b.decoration_config is None


# -- decoration ------------------------------------------------------------------------------------

MAP_DEFAULTS = """\
plank:
  default_decoration_configs:
    "org/repo":
      gcs_configuration: {path_prefix: repo-prefix}
      timeout: 3h
    "*":
      gcs_configuration: {bucket: gs://all-logs, path_strategy: legacy, default_org: o, default_repo: r}
      utility_images: {clonerefs: c:1, initupload: i:1, entrypoint: e:1, sidecar: s:1}
      timeout: 1h
    org:
      utility_images: {sidecar: s:org}
      grace_period: 10s
"""


def test_map_defaults_merge_star_then_org_then_repo_field_by_field():
    config, diags = build({"jobs.yaml": presubmit("a") + presubmit("b", repo="other/x")[11:]}, MAP_DEFAULTS)
    assert not diags.items
    a = config.presubmits["org/repo"][0].decoration_config
    assert a["gcs_configuration"] == {"bucket": "gs://all-logs", "path_strategy": "legacy", "default_org": "o",
                                      "default_repo": "r", "path_prefix": "repo-prefix"}
    assert a["utility_images"] == {"clonerefs": "c:1", "initupload": "i:1", "entrypoint": "e:1", "sidecar": "s:org"}
    assert (a["timeout"], a["grace_period"]) == ("3h", "10s")
    b = config.presubmits["other/x"][0].decoration_config
    assert b["utility_images"]["sidecar"] == "s:1" and b["timeout"] == "1h" and "grace_period" not in b


ENTRY_DEFAULTS = """\
plank:
  default_decoration_config_entries:
  - config:
      gcs_configuration: {bucket: logs, path_strategy: explicit}
      utility_images: {clonerefs: c:1, initupload: i:1, entrypoint: e:1, sidecar: s:1}
      gcs_credentials_secret: service-account
  - cluster: edge
    config:
      gcs_credentials_secret: ""
      utility_images: {entrypoint: e:edge}
  - repo: org
    cluster: "*"
    config:
      gcs_configuration: {bucket: org-logs}
"""


def test_entry_defaults_apply_every_match_in_order():
    jobs = presubmit("a") + "  - name: b\n    decorate: true\n    cluster: edge\n" + SPEC
    config, diags = build({"jobs.yaml": jobs}, ENTRY_DEFAULTS)
    assert not diags.errors
    a, b = config.presubmits["org/repo"]
    assert a.decoration_config["gcs_credentials_secret"] == "service-account"
    assert b.decoration_config["gcs_credentials_secret"] == ""           # set to "" still wins
    assert b.decoration_config["utility_images"]["entrypoint"] == "e:edge"
    assert b.decoration_config["utility_images"]["clonerefs"] == "c:1"
    assert a.storage_container == b.storage_container == "org-logs"
    assert [s.value for s in config.ignored_credential_secrets] == ["service-account", ""]


def test_job_decoration_config_merges_over_defaults_per_field():
    extra = ("    decoration_config:\n      timeout: 90m\n"
             "      gcs_configuration: {path_prefix: mine}\n      utility_images: {clonerefs: c:job}\n")
    config, diags = build({"jobs.yaml": presubmit("a", extra)})
    assert not diags.items
    dc = config.all_presubmits()[0].decoration_config
    assert dc["timeout"] == "90m"
    assert dc["gcs_configuration"] == {"bucket": "s3://prow-logs", "path_strategy": "explicit", "path_prefix": "mine"}
    assert dc["utility_images"] == {"clonerefs": "c:job", "initupload": "i:1", "entrypoint": "e:1", "sidecar": "s:1"}


def test_apply_default_follows_go_zero_value_rules():
    merged = apply_default(
        {"ssh_key_secrets": [], "github_app_id": "", "skip_cloning": False,
         "gcs_configuration": {"mediaTypes": {"log": "text/x-job"}}},
        {"ssh_key_secrets": ["key"], "github_app_id": "42", "skip_cloning": True,
         "gcs_configuration": {"mediaTypes": {"log": "text/plain", "txt": "text/plain"}}})
    assert merged["ssh_key_secrets"] == ["key"] and merged["github_app_id"] == "42"
    assert merged["skip_cloning"] is False
    # Prow lays the default's media types over the job's.
    assert merged["gcs_configuration"]["mediaTypes"] == {"log": "text/plain", "txt": "text/plain"}
    assert apply_default(None, None) is None


def test_both_decoration_default_forms_is_an_error():
    config_text = CONFIG + "  default_decoration_config_entries:\n  - config: {timeout: 1h}\n"
    _, diags = build({}, config_text)
    [error] = diags.errors
    assert (error.file, error.line) == ("config.yaml", line_of(config_text, "default_decoration_config_entries"))
    assert "mutually exclusive" in error.message


def test_decorated_job_needs_utility_images_and_storage_and_a_command():
    jobs = ("presubmits:\n  org/repo:\n  - name: a\n    decorate: true\n"
            "    spec:\n      containers:\n      - image: alpine\n")
    _, diags = build({"jobs.yaml": jobs}, "plank: {}\n")
    messages = " | ".join(e.message for e in diags.errors)
    assert "utility image config is not specified" in messages and "gcs_configuration" in messages
    assert "must specify command and/or args" in messages
    assert all(e.file == "jobs.yaml" for e in diags.errors)


def test_path_strategy_rules():
    extra = "    decoration_config:\n      gcs_configuration: {path_strategy: legacy}\n"
    _, diags = build({"jobs.yaml": presubmit("a", extra)})
    [error] = diags.errors
    assert "default_org and default_repo" in error.message
    assert error.line == line_of(presubmit("a", extra), "decoration_config")


# -- storage names ---------------------------------------------------------------------------------

def test_bucket_that_azure_rejects_is_an_error_with_a_suggestion():
    config_text = CONFIG.replace("s3://prow-logs", "gs://My_Logs.Bucket")
    config, diags = build({"jobs.yaml": presubmit("a") + item("b")}, config_text)
    [error] = diags.errors                            # one error for the one place it is written
    assert (error.file, error.line) == ("config.yaml", line_of(config_text, "bucket:"))
    assert "'my-logs-bucket'" in error.message
    assert "capital" in error.message and "underscores" in error.message and "dots" in error.message


def test_job_bucket_is_checked_where_it_is_written():
    extra = "    decoration_config:\n      gcs_configuration: {bucket: s3://ab}\n"
    text = presubmit("a", extra)
    _, diags = build({"jobs.yaml": text})
    [error] = diags.errors
    assert (error.file, error.line) == ("jobs.yaml", line_of(text, "bucket"))
    assert "'ab-logs'" in error.message


def test_container_names():
    assert storage_location("gs://logs/sub/dir") == ("gs", "logs", "sub/dir")
    assert storage_location("s3://logs") == ("s3", "logs", "")
    assert storage_location("logs") == ("gs", "logs", "")
    for valid in ("abc", "prow-logs", "a" * 63, "1a-2"):
        assert container_name_problem(valid) is None
    for invalid in ("ab", "a" * 64, "Logs", "my_logs", "my.logs", "-logs", "logs-", "a--b"):
        suggestion = suggest_container_name(invalid)
        assert container_name_problem(invalid) and container_name_problem(suggestion) is None
    assert suggest_container_name("Kubernetes_CI.Logs") == "kubernetes-ci-logs"


# -- presets ---------------------------------------------------------------------------------------

PRESETS = """\
presets:
- labels: {preset-sa: "true"}
  env: [{name: CREDS, value: /etc/sa}]
  volumes: [{name: sa, secret: {secretName: sa}}]
  volumeMounts: [{name: sa, mountPath: /etc/sa}]
- labels: {preset-extra: "yes"}
  env: [{name: EXTRA, value: "1"}]
"""


def test_presets_apply_by_label():
    jobs = (presubmit("with", "    labels: {preset-sa: \"true\"}\n") +
            item("without"))
    config, diags = build({"presets.yaml": PRESETS, "jobs.yaml": jobs})
    assert not diags.items
    with_sa, without = config.presubmits["org/repo"]
    container = with_sa.spec["containers"][0]
    assert container["env"] == [{"name": "CREDS", "value": "/etc/sa"}]
    assert container["volumeMounts"] == [{"name": "sa", "mountPath": "/etc/sa"}]
    assert with_sa.spec["volumes"] == [{"name": "sa", "secret": {"secretName": "sa"}}]
    assert "env" not in without.spec["containers"][0]
    # The raw YAML is untouched.
    assert "env" not in with_sa.raw["spec"]["containers"][0]


def test_preset_env_already_in_the_job_is_an_error():
    jobs = presubmit("x", "    labels: {preset-sa: \"true\"}\n") + "        env: [{name: CREDS, value: mine}]\n"
    _, diags = build({"presets.yaml": PRESETS, "jobs.yaml": jobs})
    [error] = diags.errors
    assert "env var duplicated in pod spec: CREDS" in error.message
    assert (error.file, error.line) == ("jobs.yaml", 3)


def test_duplicate_preset_label_pair_is_an_error():
    more = "presets:\n- labels: {preset-sa: \"true\"}\n  env: [{name: OTHER, value: x}]\n"
    _, diags = build({"presets.yaml": PRESETS, "more.yaml": more})
    [error] = diags.errors
    assert (error.file, error.line) == ("more.yaml", 2) and "presets.yaml:2" in error.message


def test_preset_label_values_must_be_strings():
    _, diags = build({"presets.yaml": "presets:\n- labels:\n    preset-x: true\n  env: []\n"})
    [error] = diags.errors
    assert (error.file, error.line) == ("presets.yaml", 3) and "quote" in error.message


# -- triggering and reporting ----------------------------------------------------------------------

def test_bad_regex_in_run_if_changed():
    text = presubmit("a", "    run_if_changed: '^docs/(['\n")
    _, diags = build({"jobs.yaml": text})
    [error] = diags.errors
    assert (error.file, error.line) == ("jobs.yaml", line_of(text, "run_if_changed"))
    assert "run_if_changed" in error.message and "missing closing" in error.message


def test_regex_python_accepts_but_go_rejects_is_an_error():
    text = presubmit("a", "    skip_if_only_changed: '^docs/(?!api)'\n")
    _, diags = build({"jobs.yaml": text})
    [error] = diags.errors
    assert error.line == line_of(text, "skip_if_only_changed") and "lookahead" in error.message


def test_always_run_with_run_if_changed():
    text = presubmit("a", "    always_run: true\n    run_if_changed: '^src/'\n")
    _, diags = build({"jobs.yaml": text})
    [error] = diags.errors
    assert (error.file, error.line) == ("jobs.yaml", line_of(text, "always_run"))
    assert "mutually exclusive" in error.message


def test_run_if_changed_with_skip_if_only_changed():
    text = presubmit("a", "    run_if_changed: a\n    skip_if_only_changed: b\n")
    _, diags = build({"jobs.yaml": text})
    [error] = diags.errors
    assert error.line == line_of(text, "skip_if_only_changed")


def test_trigger_without_rerun_command():
    text = presubmit("a", "    trigger: '(?m)^/run-a'\n")
    _, diags = build({"jobs.yaml": text})
    [error] = diags.errors
    assert (error.file, error.line) == ("jobs.yaml", line_of(text, "trigger"))
    assert "both of trigger and rerun_command" in error.message


def test_rerun_command_must_match_trigger():
    text = presubmit("a", "    trigger: '(?m)^/run-a'\n    rerun_command: /test a\n")
    _, diags = build({"jobs.yaml": text})
    [error] = diags.errors
    assert error.line == line_of(text, "rerun_command") and "does not match" in error.message
    config, diags = build({"jobs.yaml": presubmit("a", "    trigger: '(?m)^/run-a'\n    rerun_command: /run-a\n")})
    assert not diags.items
    assert config.all_presubmits()[0].trigger_matches("please\n/run-a")


def test_default_trigger_inserts_the_name_unescaped():
    config, _ = build({"jobs.yaml": presubmit("pull.x")})
    job = config.all_presubmits()[0]
    assert job.trigger_matches("/test pull.x") and job.trigger_matches("/test pullXx")
    assert job.trigger_matches("/test a pull.x") and not job.trigger_matches("/test pull.x,b")


def test_should_run_semantics():
    text = presubmit("a", "    run_if_changed: '^docs/'\n    branches: [main]\n")
    config, diags = build({"jobs.yaml": text})
    assert not diags.items
    job = config.all_presubmits()[0]
    calls = []

    def changes():
        calls.append(1)
        return ["docs/readme.md"]

    assert not job.should_run("release", changes, forced=True, default=True)   # branch filter first
    assert job.should_run("main", lambda: ["src/x.go"], forced=True, default=False)
    assert job.should_run("main", changes, forced=False, default=False) and calls == [1]
    assert not job.should_run("main", lambda: ["src/x.go"], forced=False, default=False)
    assert job.could_run("maintenance")                                         # unanchored


def test_postsubmit_always_run_is_tri_state():
    text = ("postsubmits:\n  org/repo:\n  - name: a\n    decorate: true\n" + SPEC +
            "  - name: b\n    always_run: false\n    decorate: true\n" + SPEC +
            "  - name: c\n    skip_if_only_changed: '^docs/'\n    decorate: true\n" + SPEC)
    config, diags = build({"jobs.yaml": text})
    assert not diags.items
    a, b, c = config.postsubmits["org/repo"]
    assert a.always_run is None and a.should_run("main", lambda: [])
    assert not b.should_run("main", lambda: [])
    assert not c.should_run("main", lambda: ["docs/a"]) and c.should_run("main", lambda: ["src/a"])


# -- duplicates ------------------------------------------------------------------------------------

def test_duplicate_job_on_the_same_branch_in_two_files():
    first = presubmit("pull-a", "    branches: [main]\n")
    second = presubmit("pull-a", "    branches: [main, dev]\n")
    _, diags = build({"a.yaml": first, "b.yaml": second})
    [error] = diags.errors
    assert (error.file, error.line) == ("b.yaml", 3)
    assert "a.yaml:3" in error.message and "pull-a" in error.message


def test_same_name_on_disjoint_branches_is_fine():
    _, diags = build({"a.yaml": presubmit("pull-a", "    branches: [main]\n"),
                      "b.yaml": presubmit("pull-a", "    branches: [release-1.30]\n")})
    assert not diags.items


def test_skip_branches_against_branches_like_the_kubernetes_corpus():
    master = presubmit("pull-a", "    skip_branches: ['release-\\d+\\.\\d+']\n")
    _, diags = build({"a.yaml": master, "b.yaml": presubmit("pull-a", "    branches: [release-1.36]\n")})
    assert not diags.items
    _, diags = build({"a.yaml": master, "b.yaml": presubmit("pull-a", "    branches: [main]\n")})
    assert len(diags.errors) == 1


def test_duplicate_context():
    text = (presubmit("pull-a", "    context: ci/unit\n") +
            "  - name: pull-b\n    context: ci/unit\n    decorate: true\n" + SPEC)
    _, diags = build({"jobs.yaml": text})
    [error] = diags.errors
    assert (error.file, error.line) == ("jobs.yaml", line_of(text, "name: pull-b"))
    assert "ci/unit" in error.message and "jobs.yaml:3" in error.message


def test_same_name_in_two_repos_is_fine():
    _, diags = build({"a.yaml": presubmit("gomod"), "b.yaml": presubmit("gomod", repo="org/other")})
    assert not diags.items


def test_brancher_intersects():
    def brancher(branches=(), skip=()):
        return Brancher(tuple(branches), tuple(skip),
                        compile_re2("|".join(branches)) if branches else None,
                        compile_re2("|".join(skip)) if skip else None)

    assert brancher().intersects(brancher(["main"]))
    assert brancher(["main"]).intersects(brancher(["dev", "main"]))
    assert not brancher(["main"]).intersects(brancher(["dev"]))
    assert not brancher(["main"]).intersects(brancher(["^main$"]))      # compared literally, as Prow
    assert not brancher(["release-1.2"]).intersects(brancher(skip=["release"]))
    assert brancher(["main"]).intersects(brancher(skip=["release"]))
    assert brancher(skip=["release"]).intersects(brancher(["main"]))
    assert brancher(skip=["a"]).intersects(brancher(skip=["b"]))


# -- periodics -------------------------------------------------------------------------------------

def periodic(name: str, schedule: str) -> str:
    return f"periodics:\n  - name: {name}\n{schedule}    decorate: true\n" + SPEC


def test_periodic_schedules():
    text = (periodic("both", "    cron: '0 * * * *'\n    interval: 1h\n") +
            periodic("none", "")[11:] + periodic("bad", "    interval: 1d\n")[11:] +
            periodic("min", "    minimum_interval: 1h30m\n")[11:])
    config, diags = build({"p.yaml": text})
    errors = {e.line: e.message for e in diags.errors}
    assert "mutually exclusive" in errors[line_of(text, "interval: 1h")]
    assert "at least one of cron" in errors[line_of(text, "name: none")]
    assert 'unknown unit "d"' in errors[line_of(text, "interval: 1d")]
    assert len(errors) == 3
    assert config.periodic("min").minimum_interval == timedelta(hours=1, minutes=30)


def test_duplicate_periodic_names_and_cron_hook():
    seen = []

    def cron(expr):
        seen.append(expr)
        if expr == "bad":
            raise ValueError("expected 5 fields")

    text = periodic("p", "    cron: '0 * * * *'\n") + periodic("p", "    cron: bad\n")[11:]
    _, diags = build({"p.yaml": text}, cron_validator=cron)
    assert seen == ["0 * * * *", "bad"]
    errors = {e.line: e.message for e in diags.errors}
    assert len(errors) == 2
    assert "expected 5 fields" in errors[line_of(text, "cron: bad")]
    duplicate = errors[line_of(text, "name: p", 2)]
    assert "defined more than once" in duplicate and "p.yaml:2" in duplicate


def test_periodic_decoration_defaults_use_the_first_extra_ref():
    text = periodic("p", "    interval: 1h\n    extra_refs: [{org: org, repo: repo, base_ref: main}]\n")
    config, diags = build({"p.yaml": text}, MAP_DEFAULTS)
    assert not diags.errors
    assert config.periodics[0].decoration_config["timeout"] == "3h"


# -- other validation ------------------------------------------------------------------------------

def test_wrong_types_are_errors_with_lines():
    text = presubmit("a", "    always_run: 'yes'\n    labels:\n      team: 5\n")
    _, diags = build({"jobs.yaml": text})
    lines = sorted(e.line for e in diags.errors)
    assert lines == [line_of(text, "always_run"), line_of(text, "team: 5")]


def test_all_errors_are_collected():
    text = (presubmit("bad name!", "    always_run: true\n    run_if_changed: x\n    max_concurrency: -1\n"))
    _, diags = build({"jobs.yaml": text})
    messages = " | ".join(e.message for e in diags.errors)
    assert "job names must match" in messages and "mutually exclusive" in messages
    assert "non-negative" in messages


def test_reserved_names_in_pod_specs():
    text = ("presubmits:\n  org/repo:\n  - name: a\n    decorate: true\n    spec:\n      containers:\n"
            "      - image: alpine\n        command: [x]\n        env: [{name: JOB_NAME, value: x}]\n"
            "        volumeMounts: [{name: logs, mountPath: /logs}]\n")
    _, diags = build({"jobs.yaml": text})
    messages = " | ".join(e.message for e in diags.errors)
    assert "env JOB_NAME is reserved" in messages and "reserved for decoration" in messages


def test_jenkins_jobs_load_and_unknown_agents_are_noticed():
    text = ("presubmits:\n  org/repo:\n  - name: folder/jenkins-job\n    agent: jenkins\n"
            "  - name: other\n    agent: buildkite\n")
    config, diags = build({"jobs.yaml": text})
    assert not diags.errors
    [notice] = diags.notices
    assert notice.line == 6 and "buildkite" in notice.message
    assert config.counts_by_agent()["presubmits"] == Counter(jenkins=1, buildkite=1)


def test_kubernetes_job_needs_a_spec_and_namespace_customization_needs_tekton():
    text = presubmit("a", spec=False) + "  - name: b\n    namespace: elsewhere\n    decorate: true\n" + SPEC
    _, diags = build({"jobs.yaml": text})
    messages = {e.line: e.message for e in diags.errors}
    assert "require a spec" in messages[3]
    assert "namespace customization" in messages[line_of(text, "namespace: elsewhere")]


def test_jobs_in_config_yaml_come_first():
    config_text = CONFIG + presubmit("pull-a")
    _, diags = build({"jobs.yaml": presubmit("pull-a")}, config_text)
    [error] = diags.errors
    assert error.file == "jobs.yaml" and f"config.yaml:{line_of(config_text, 'name: pull-a')}" in error.message


def test_bad_document_shapes():
    _, diags = build({"a.yaml": "- just a list\n", "b.yaml": "presubmits: [x]\n", "c.yaml": "periodics: {}\n"})
    assert sorted(e.file for e in diags.errors) == ["a.yaml", "b.yaml", "c.yaml"]


def test_in_repo_config_enabled():
    config, _ = build({}, CONFIG + "in_repo_config:\n  enabled:\n    '*': true\n    org/off: false\n")
    assert config.in_repo_config_enabled("org/repo") and not config.in_repo_config_enabled("org/off")


# -- durations -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("1h30m", timedelta(hours=1, minutes=30)), ("90s", timedelta(seconds=90)),
    ("500ms", timedelta(milliseconds=500)), ("1.5h", timedelta(minutes=90)),
    ("-2m", timedelta(minutes=-2)), ("+3s", timedelta(seconds=3)), ("0", timedelta(0)),
    (".5s", timedelta(milliseconds=500)), ("1µs", timedelta(microseconds=1)), ("2us", timedelta(microseconds=2)),
    ("1h1m1s1ms", timedelta(hours=1, minutes=1, seconds=1, milliseconds=1)),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text, message", [
    ("", "invalid duration"), ("1", "missing unit"), ("1d", 'unknown unit "d"'), ("h", "invalid duration"),
    (".s", "invalid duration"), ("1h-1m", "unknown unit"), ("3000000h", "invalid duration"),
])
def test_parse_duration_errors(text, message):
    with pytest.raises(ValueError, match=message):
        parse_duration(text)


def test_duration_details():
    assert parse_duration_ns("1.0000000009s") == 1_000_000_000
    assert parse_prow_duration(7_200_000_000_000) == timedelta(hours=2)   # integer nanoseconds
    assert parse_prow_duration("15s") == timedelta(seconds=15)
    with pytest.raises(ValueError):
        parse_prow_duration(1.5)
    assert [format_duration(parse_duration(t)) for t in ("1h30m", "90s", "500ms", "0", "1.5s")] == [
        "1h30m0s", "1m30s", "500ms", "0s", "1.5s"]


def test_bad_decoration_durations_are_errors():
    extra = "    decoration_config:\n      timeout: 2 hours\n      pod_pending_timeout: 600\n"
    text = presubmit("a", extra)
    _, diags = build({"jobs.yaml": text})
    assert sorted(e.line for e in diags.errors) == [line_of(text, "timeout: 2"), line_of(text, "pod_pending")]
    assert not build({"jobs.yaml": presubmit("a", "    decoration_config:\n      timeout: 7200000000000\n")})[1].items
