"""Job file selection as Prow's ReadJobConfig does it: extensions, .prowignore, `..` entries,
unique base names, gzip."""
import gzip
import os
from pathlib import Path

from shared.config.errors import Diagnostics
from shared.config.jobfiles import (list_local_files, read_local_job_files, read_maybe_gzip,
                                    select_job_files)
from shared.config.jobs import build_job_config
from shared.config.yamlnodes import load_yaml
from tests.conftest import CORPUS as SHARED_CORPUS

CORPUS = SHARED_CORPUS / "prow-configs"

JOB = """presubmits:
  org/repo:
  - name: {name}
    always_run: true
    spec:
      containers:
      - image: alpine
        command: [true]
"""


def select(files: dict[str, str]):
    diags = Diagnostics()
    selection = select_job_files(list(files), lambda path: files[path].encode(), diags)
    return selection, diags


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


def load_dir(root: Path):
    diags = Diagnostics()
    docs = [(str(root / f.path), load_yaml(f.data, str(root / f.path))[0])
            for f in read_local_job_files(root, diags)]
    return build_job_config(None, "config.yaml", docs, diags), diags


def test_only_yaml_and_yml_in_walk_order():
    selection, diags = select({"b.yaml": "", "a/z.yml": "", "a/b/c.yaml": "", "README.md": "",
                               "x.json": "", "jobs.yaml.gz": "", "a.yaml": ""})
    assert selection.files == ["a/b/c.yaml", "a/z.yml", "a.yaml", "b.yaml"]
    assert not diags.items


def test_dotdot_entries_are_skipped():
    selection, _ = select({"..data/jobs.yaml": "", "..2024_01_01/jobs.yaml": "", "..hidden.yaml": "",
                           "sub/..data/x.yaml": "", "jobs.yaml": "", ".hidden.yaml": ""})
    assert selection.files == [".hidden.yaml", "jobs.yaml"]


def test_prowignore_at_root_and_nested_relative_to_its_directory():
    files = {
        ".prowignore": "generated/\n*-wip.yaml\n",
        "generated/a.yaml": "", "generated/deep/b.yaml": "",
        "team/x-wip.yaml": "", "team/keep.yaml": "",
        "team/.prowignore": "/local.yaml\n",
        "team/local.yaml": "", "team/sub/local.yaml": "",   # anchored pattern: only team/local.yaml
        "other/generated.yaml": "",
    }
    selection, diags = select(files)
    assert selection.files == ["other/generated.yaml", "team/keep.yaml", "team/sub/local.yaml"]
    assert sorted(selection.ignored) == ["generated/a.yaml", "generated/deep/b.yaml",
                                         "team/local.yaml", "team/x-wip.yaml"]
    assert not diags.items


def test_nearer_prowignore_can_reinclude_but_not_inside_an_ignored_directory():
    files = {
        ".prowignore": "*.yml\nold/\n",
        "a/.prowignore": "!special.yml\n",
        "a/special.yml": "", "a/other.yml": "",
        "old/.prowignore": "!x.yaml\n", "old/x.yaml": "",
    }
    selection, _ = select(files)
    assert selection.files == ["a/special.yml"]


def test_duplicate_base_names_name_both_files():
    selection, diags = select({"a/jobs.yaml": "", "b/jobs.yaml": "", "c/other.yaml": ""})
    assert selection.files == ["a/jobs.yaml", "c/other.yaml"]
    [error] = diags.errors
    assert error.file == "b/jobs.yaml"
    assert "a/jobs.yaml" in error.message and "base name" in error.message


def test_ignored_file_does_not_count_for_duplicate_base_names():
    selection, diags = select({".prowignore": "b/\n", "a/jobs.yaml": "", "b/jobs.yaml": ""})
    assert selection.files == ["a/jobs.yaml"] and not diags.items


def test_prowignore_excludes_a_broken_file_without_error(tmp_path):
    write(tmp_path, {"good.yaml": JOB.format(name="good"),
                     "wip/.prowignore": "broken.yaml\n",
                     "wip/broken.yaml": "presubmits: [this is: not: valid yaml\n"})
    config, diags = load_dir(tmp_path)
    assert not diags.items
    assert [job.name for job in config.all_presubmits()] == ["good"]


def test_nested_prowignore_in_a_local_tree(tmp_path):
    write(tmp_path, {"a/b/.prowignore": "*.yaml\n!keep.yaml\n",
                     "a/b/drop.yaml": JOB.format(name="drop"),
                     "a/b/keep.yaml": JOB.format(name="keep"),
                     "a/top.yaml": JOB.format(name="top")})
    config, diags = load_dir(tmp_path)
    assert not diags.items
    assert sorted(job.name for job in config.all_presubmits()) == ["keep", "top"]


def test_configmap_mount_layout_is_read_once(tmp_path):
    # Kubernetes mounts a ConfigMap as ..<timestamp>/ with the files, ..data -> ..<timestamp>,
    # and one symlink per key pointing into ..data.
    stamp = tmp_path / "..2026_01_01_00_00_00.000"
    write(stamp, {"jobs.yaml": JOB.format(name="only-once")})
    (tmp_path / "..data").symlink_to(stamp.name)
    (tmp_path / "jobs.yaml").symlink_to("..data/jobs.yaml")
    assert list_local_files(tmp_path) == ["jobs.yaml"]
    config, diags = load_dir(tmp_path)
    assert not diags.items
    assert [job.name for job in config.all_presubmits()] == ["only-once"]


def test_gzipped_job_file_is_read_decompressed(tmp_path):
    write(tmp_path, {"zipped.yaml": gzip.compress(JOB.format(name="from-gzip").encode()),
                     "ignored.yaml.gz": gzip.compress(JOB.format(name="not-read").encode())})
    config, diags = load_dir(tmp_path)
    assert not diags.items
    assert [job.name for job in config.all_presubmits()] == ["from-gzip"]


def test_corrupt_gzip_is_an_error(tmp_path):
    write(tmp_path, {"bad.yaml": b"\x1f\x8b\x08\x00garbage"})
    diags = Diagnostics()
    assert read_local_job_files(tmp_path, diags) == []
    [error] = diags.errors
    assert error.file == os.path.join(str(tmp_path), "bad.yaml") and "gzip" in error.message


def test_read_maybe_gzip_passes_plain_data_through():
    assert read_maybe_gzip(b"presubmits: {}\n") == b"presubmits: {}\n"
    assert read_maybe_gzip(gzip.compress(b"a: 1\n")) == b"a: 1\n"


def test_single_job_file_as_job_config_path(tmp_path):
    write(tmp_path, {"one.yaml": JOB.format(name="single")})
    files = read_local_job_files(tmp_path / "one.yaml", Diagnostics())
    assert [f.path for f in files] == ["one.yaml"]


def test_kubernetes_corpus_prowignore():
    root = CORPUS / "kubernetes" / "jobs"
    diags = Diagnostics()
    selection = select_job_files(list_local_files(root), lambda p: (root / p).read_bytes(), diags)
    assert selection.ignored == ["kubernetes/sig-cloud-provider/gcp/registry/default.yaml"]
    assert len(selection.files) == 601 and not diags.items
