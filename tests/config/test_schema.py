"""Prow's unknown-field warnings: silent on real configs, precise on planted mistakes."""
from __future__ import annotations

import functools
import textwrap
from pathlib import Path

import pathspec
import pytest

from shared.config.schema import UNKNOWN_FIELDS, UNKNOWN_FIELDS_ALL, unknown_fields
from shared.config.yamlnodes import load_yaml

CORPUS = Path(__file__).parents[3] / "shared" / "corpus" / "prow-configs"
PROJECTS = ("metal3", "kubernetes")


def job_files(root: Path) -> list[Path]:
    """Job config files as Prow finds them: *.yaml/*.yml, minus what .prowignore files exclude."""
    ignores = [(ignore.parent, pathspec.GitIgnoreSpec.from_lines(ignore.read_text().splitlines()))
               for ignore in root.rglob(".prowignore")]
    return [path for path in sorted(root.rglob("*"))
            if path.suffix in (".yaml", ".yml") and path.is_file()
            and not any(path.is_relative_to(base) and spec.match_file(path.relative_to(base).as_posix())
                        for base, spec in ignores)]


def load(path: Path):
    return load_yaml(path.read_bytes(), str(path))[0]


@functools.cache
def corpus_job_documents(project: str) -> tuple:
    """(path, parsed document) of every job file of a project, parsed once for all tests."""
    return tuple((path, load(path)) for path in job_files(CORPUS / project / "jobs"))


def check(text: str, kind: str, file: str = "test.yaml"):
    return unknown_fields(load_yaml(textwrap.dedent(text), file)[0], kind)


def summary(diagnostics) -> list[tuple[int | None, str]]:
    return [(d.line, d.message) for d in diagnostics]


# --- real configs: both projects run checkconfig --strict, so nothing may be flagged -------------

@pytest.mark.parametrize("project", PROJECTS)
def test_corpus_prow_config_has_no_unknown_fields(project):
    assert summary(unknown_fields(load(CORPUS / project / "config.yaml"), "prow_config")) == []


@pytest.mark.parametrize("project", PROJECTS)
def test_corpus_plugin_config_has_no_unknown_fields(project):
    assert summary(unknown_fields(load(CORPUS / project / "plugins.yaml"), "plugin_config")) == []


@pytest.mark.parametrize("project", PROJECTS)
def test_corpus_job_files_have_no_unknown_fields(project):
    documents = corpus_job_documents(project)
    assert len(documents) > 30
    flagged = [str(d) for _, document in documents for d in unknown_fields(document, "job_config")]
    assert flagged == []


def test_prowignored_corpus_file_is_not_a_job_file():
    # kubernetes keeps a non-job YAML next to its jobs and hides it with .prowignore; read as a
    # job file every key in it would be unknown.
    registry = CORPUS / "kubernetes" / "jobs" / "kubernetes" / "sig-cloud-provider" / "gcp" / "registry"
    assert registry / "default.yaml" not in job_files(CORPUS / "kubernetes" / "jobs")
    assert unknown_fields(load(registry / "default.yaml"), "job_config")


def test_walk_over_the_whole_kubernetes_corpus_knows_every_field():
    # Its speed is part of the corpus benchmark (`make bench`), not a timed test.
    root = CORPUS / "kubernetes"
    documents = [(load(root / "config.yaml"), "prow_config"), (load(root / "plugins.yaml"), "plugin_config")]
    documents += [(document, "job_config") for _, document in corpus_job_documents("kubernetes")]
    assert len(documents) > 600
    assert [found for document, kind in documents for found in unknown_fields(document, kind)] == []


# --- planted mistakes: found with file, line, Prow-style path and warning name -------------------

def test_unknown_top_level_key_in_prow_config():
    diagnostics = check("""\
        prowjob_namespace: prow
        pod_namepsace: test-pods
        log_level: debug
        """, "prow_config", "config.yaml")
    assert summary(diagnostics) == [(2, 'unknown field: pod_namepsace (did you mean "pod_namespace"?)')]
    assert diagnostics[0].file == "config.yaml"
    assert diagnostics[0].severity == "warning"
    assert diagnostics[0].kind == UNKNOWN_FIELDS


def test_unknown_key_inside_tide_query():
    diagnostics = check("""\
        tide:
          sync_period: 2m
          queries:
          - repos: [org/a]
            labels: [lgtm]
          - repos: [org/b]
            lables: [lgtm, approved]
            missingLabels: [do-not-merge/hold]
        """, "prow_config")
    assert summary(diagnostics) == [(7, 'unknown field: tide.queries[1].lables (did you mean "labels"?)')]


def test_unknown_key_inside_a_job_container():
    diagnostics = check("""\
        presubmits:
          org/repo:
          - name: unit
            always_run: true
            decorate: true
            spec:
              containers:
              - image: golang:1.22
                command: [make, test]
                imagePullPolicyy: Always
                resources:
                  requests: {cpu: "1"}
        """, "job_config", "jobs/org/repo.yaml")
    assert summary(diagnostics) == [
        (10, 'unknown field: presubmits.org/repo[0].spec.containers[0].imagePullPolicyy'
             ' (did you mean "imagePullPolicy"?)')]
    assert diagnostics[0].kind == UNKNOWN_FIELDS_ALL
    assert diagnostics[0].file == "jobs/org/repo.yaml"


def test_jobs_inline_in_prow_config_are_checked_too():
    diagnostics = check("""\
        periodics:
        - name: nightly
          cron: "0 3 * * *"
          extra_refs:
          - org: org
            repo: repo
            base_ref: main
            workdir: true
            base_branch: main
          spec:
            containers:
            - image: alpine
        """, "prow_config")
    assert summary(diagnostics) == [(9, "unknown field: periodics[0].extra_refs[0].base_branch")]
    assert diagnostics[0].kind == UNKNOWN_FIELDS


def test_unknown_key_inside_default_decoration_config_entry_gcs_configuration():
    diagnostics = check("""\
        plank:
          default_decoration_config_entries:
          - config:
              timeout: 2h
              gcs_configuration:
                bucket: gs://artifacts
                path_strategy: explicit
          - repo: org/repo
            cluster: build
            config:
              gcs_configuration:
                bukket: s3://other
                default_org: org
              utility_images:
                clonerefs: clonerefs:v1
        """, "prow_config")
    assert summary(diagnostics) == [
        (12, 'unknown field: plank.default_decoration_config_entries[1].config.gcs_configuration.bukket'
             ' (did you mean "bucket"?)')]


def test_planted_field_in_a_copy_of_the_real_metal3_config(tmp_path):
    lines = (CORPUS / "metal3" / "config.yaml").read_text().splitlines(keepends=True)
    query = next(index for index, line in enumerate(lines) if line.strip() == "- repos:")
    indent = lines[query][:lines[query].index("-")]
    # "- repos:" becomes "- reviewApprovedRequird: true" followed by "  repos:".
    lines[query:query + 1] = [f"{indent}- reviewApprovedRequird: true\n", f"{indent}  repos:\n"]
    copy = tmp_path / "config.yaml"
    copy.write_text("".join(lines))
    diagnostics = unknown_fields(load(copy), "prow_config")
    assert summary(diagnostics) == [
        (query + 1, 'unknown field: tide.queries[0].reviewApprovedRequird'
                    ' (did you mean "reviewApprovedRequired"?)')]
    assert diagnostics[0].file == str(copy)


def test_unknown_key_in_plugin_blocks():
    diagnostics = check("""\
        plugins:
          org:
            plugins: [size, trigger, blunderbuss]
        blunderbuss:
          request_count: 2
          max_reviewers: 3
        triggers:
        - repos: [org]
          only_org_members: true
        - repoz: [org/other]
        size:
          s: 10
          xs: 1
        """, "plugin_config", "plugins.yaml")
    assert summary(diagnostics) == [
        (6, "unknown field: blunderbuss.max_reviewers"),
        (10, 'unknown field: triggers[1].repoz (did you mean "repos"?)'),
        (13, "unknown field: size.xs"),
    ]
    assert {d.kind for d in diagnostics} == {UNKNOWN_FIELDS}


def test_unknown_key_deep_in_branch_protection_maps():
    diagnostics = check("""\
        branch-protection:
          protect: false
          orgs:
            org:
              protect: true
              repos:
                repo:
                  branches:
                    main:
                      required_status_checks:
                        contexts: [ci]
                      enforce_admin: true
        """, "prow_config")
    assert summary(diagnostics) == [
        (12, 'unknown field: branch-protection.orgs.org.repos.repo.branches.main.enforce_admin'
             ' (did you mean "enforce_admins"?)')]


def test_every_unknown_field_is_reported_not_only_the_first():
    diagnostics = check("""\
        sinker:
          max_pod_agee: 1h
        deck:
          spyglass:
            lenses:
            - lens: {name: buildlog}
              required_file: [build-log.txt]
        colour: blue
        """, "prow_config")
    assert [d.line for d in diagnostics] == [2, 7, 8]
    assert [d.message.split(" (")[0] for d in diagnostics] == [
        "unknown field: sinker.max_pod_agee",
        "unknown field: deck.spyglass.lenses[0].required_file",
        "unknown field: colour",
    ]


def test_kubernetes_types_in_presets_and_scheduling_options():
    diagnostics = check("""\
        presets:
        - labels: {preset-creds: "true"}
          env:
          - name: TOKEN
            valueFrom:
              secretKeyRef: {name: creds, key: token, optionl: true}
          volumes:
          - name: creds
            secret: {secretName: creds}
          volumeMounts:
          - {name: creds, mountPath: /creds, readonly: true}
        plank:
          default_decoration_configs:
            "*":
              scheduling_options:
                tolerations:
                - {key: dedicated, operator: Equal, value: ci, effect: NoSchedule}
                affinity:
                  nodeAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                      nodeSelectorTerms:
                      - matchExpressions:
                        - {key: pool, operator: In, valuez: [ci]}
        """, "prow_config")
    assert [d.message.split(" (")[0] for d in diagnostics] == [
        "unknown field: presets[0].env[0].valueFrom.secretKeyRef.optionl",
        "unknown field: plank.default_decoration_configs.*.scheduling_options.affinity.nodeAffinity"
        ".requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].valuez",
    ]
    # `readonly` is not a field, but encoding/json matches `readOnly` case-insensitively.
    assert all("readonly" not in d.message for d in diagnostics)


# --- known fields, free-form maps and Prow's own exemptions are not flagged ----------------------

def test_known_fields_at_every_planted_depth_are_not_flagged():
    config = """\
        prowjob_namespace: prow
        tide:
          queries:
          - repos: [org/a]
            labels: [lgtm]
            reviewApprovedRequired: true
        plank:
          default_decoration_config_entries:
          - config:
              gcs_configuration: {bucket: gs://x, path_strategy: explicit, mediaTypes: {log: text/plain}}
        presubmits:
          org/repo:
          - name: unit
            spec:
              containers:
              - {image: alpine, imagePullPolicy: Always, command: [true]}
        """
    plugins = """\
        blunderbuss: {request_count: 2, max_request_count: 3}
        triggers:
        - repos: [org]
        size: {s: 10, m: 30}
        """
    assert check(config, "prow_config") == []
    assert check(plugins, "plugin_config") == []


def test_free_form_maps_are_not_walked():
    assert check("""\
        presubmits:
          org/repo:
          - name: unit
            labels: {anything-goes: "true", preset-x: "true"}
            annotations: {testgrid-dashboards: sig-x, whatever: y}
            spec:
              nodeSelector: {any-node-label: "yes"}
              containers:
              - image: alpine
                env:
                - {name: A, value: "arbitrary: text"}
                resources:
                  limits: {cpu: 2, example.com/gpu: 1}
        tide:
          merge_method:
            org: squash
            org2:
              repo: {main: rebase}
          context_options:
            orgs:
              org:
                repos:
                  repo:
                    branches:
                      main: {required-contexts: [ci]}
        deck:
          spyglass:
            lenses:
            - lens:
                name: junit
                config: {anything: {nested: [1, 2]}}
              required_files: [junit.xml]
        prow_ignored:
          templates: {any: [shape]}
        """, "prow_config") == []


def test_prow_exempt_plugin_sections_are_not_walked():
    # Prow decodes `plugins` and `config_updater` with their own lenient unmarshalers.
    assert check("""\
        plugins:
          org:
            plugins: [trigger]
            not_a_field: true
          org/repo: [size]
        config_updater:
          maps:
            config.yaml: {name: config, validation: strict}
        milestone_applier:
          org/repo: {main: v1.0}
        """, "plugin_config") == []


def test_field_names_match_case_insensitively_like_go():
    assert check("""\
        periodics:
        - Name: nightly
          CRON: "0 3 * * *"
          spec:
            containers:
            - Image: alpine
        """, "job_config") == []


def test_wrong_shapes_and_empty_documents_do_not_crash():
    assert check("", "prow_config") == []
    assert check("- a list\n", "job_config") == []
    assert check("""\
        presubmits:
          org/repo:
            name: not-a-list
        periodics:
        - name: x
          spec: not-a-map
          extra_refs: {org: o}
        tide: null
        """, "prow_config") == []


def test_non_string_keys_are_named_as_go_sees_them():
    diagnostics = check("1: one\nfalse: no\n", "plugin_config")
    assert summary(diagnostics) == [(1, "unknown field: 1"), (2, "unknown field: false")]


def test_job_config_root_has_no_prow_config_sections():
    diagnostics = check("tide:\n  sync_period: 1m\npresets: []\n", "job_config")
    assert summary(diagnostics) == [(1, "unknown field: tide")]
