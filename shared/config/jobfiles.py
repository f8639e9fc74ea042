"""Which files under a job-config root are job files, as Prow's `ReadJobConfig` decides.

Prow walks the `--job-config-path` directory in lexical order and reads every file whose name ends
in `.yaml` or `.yml`, except:
- entries whose name starts with `..` (Kubernetes ConfigMap mounts keep `..data` and
  `..2024_01_01...` directories of symlinked copies; reading them would load every job twice);
  such a directory is skipped with everything below it;
- files matched by a `.prowignore` file (gitignore syntax, patterns relative to the directory that
  holds the `.prowignore`, at any depth; a file inside an ignored directory stays ignored, and a
  deeper `.prowignore` takes precedence over a higher one).
Two job files with the same base name are an error (the updateconfig plugin keys its ConfigMap by
base name). Contents that start with the gzip magic bytes are decompressed; the extension still has
to be `.yaml`/`.yml` (a `jobs.yaml.gz` is not read, exactly as in Prow).

Everything here works on paths relative to the job-config root with `/` separators, so the same
code serves a local directory and a blob prefix; `read` returns a file's bytes by relative path.
"""
from __future__ import annotations

import gzip
import os
import posixpath
import zlib
from dataclasses import dataclass, field
from typing import Callable, Iterable

import pathspec

from .errors import Diagnostics

__all__ = ["PROWIGNORE", "JobFile", "JobFileSelection", "is_gzip", "list_local_files",
           "read_local_job_files", "read_maybe_gzip", "select_job_files"]

PROWIGNORE = ".prowignore"
_GZIP_MAGIC = b"\x1f\x8b"


def is_gzip(data: bytes) -> bool:
    return data[:2] == _GZIP_MAGIC


def read_maybe_gzip(data: bytes) -> bytes:
    """The file's contents, decompressed if they carry the gzip magic bytes (as Prow's
    `ReadFileMaybeGZIP`). Raises ValueError for a corrupt gzip stream."""
    if not is_gzip(data):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"invalid gzip data: {exc}") from None


@dataclass(frozen=True)
class JobFile:
    path: str          # relative to the job-config root, "/"-separated
    data: bytes        # decompressed contents


@dataclass
class JobFileSelection:
    files: list[str] = field(default_factory=list)     # job files, in Prow's walk order
    ignored: list[str] = field(default_factory=list)   # excluded by a .prowignore


def _walk_key(path: str) -> tuple[str, ...]:
    # filepath.Walk visits entries of a directory in lexical (byte) order, depth first.
    return tuple(path.split("/"))


def _normalize(path: str) -> str:
    path = path.replace("\\", "/").lstrip("/")
    while path.startswith("./"):
        path = path[2:]
    return path


class _IgnoreRules:
    """The .prowignore files of one tree, evaluated the way Prow's gitignore library does."""

    def __init__(self, specs: dict[str, pathspec.GitIgnoreSpec]):
        self.specs = specs  # directory ("" for the root) -> its .prowignore

    def _check(self, directory: str, relative: str) -> bool | None:
        spec = self.specs.get(directory)
        if spec is None:
            return None
        return spec.check_file(relative).include

    def ignored(self, path: str) -> bool:
        parts = path.split("/")
        parents = parts[:-1]
        # A path below an ignored directory is ignored: look at every ancestor directory, as
        # seen by every .prowignore above it.
        for depth in range(len(parents)):
            base = "/".join(parents[:depth])
            for end in range(depth + 1, len(parents) + 1):
                if self._check(base, "/".join(parents[depth:end]) + "/"):
                    return True
        # Otherwise the nearest .prowignore with a matching pattern decides (a `!pattern` there
        # re-includes the file even if a higher .prowignore excludes it).
        for depth in range(len(parents), -1, -1):
            decision = self._check("/".join(parents[:depth]), "/".join(parts[depth:]))
            if decision is not None:
                return decision
        return False


def select_job_files(paths: Iterable[str], read: Callable[[str], bytes], diags: Diagnostics,
                     *, display: Callable[[str], str] = lambda path: path) -> JobFileSelection:
    """Choose the job files among `paths` (every file below the root, relative, `/`-separated).

    `read(path)` gives the bytes of a `.prowignore`. Problems (an unreadable `.prowignore`, two job
    files with one base name) go to `diags`, named by `display(path)`.
    """
    candidates: list[str] = []
    specs: dict[str, pathspec.GitIgnoreSpec] = {}
    for path in sorted({_normalize(p) for p in paths if p}, key=_walk_key):
        parts = path.split("/")
        if any(part.startswith("..") for part in parts):
            continue
        name = parts[-1]
        if name == PROWIGNORE:
            try:
                text = read(path).decode("utf-8", errors="replace")
                specs["/".join(parts[:-1])] = pathspec.GitIgnoreSpec.from_lines(text.splitlines())
            except Exception as exc:  # noqa: BLE001 - a bad ignore file must not stop loading
                diags.error(display(path), None, f"cannot use {PROWIGNORE}: {exc}")
            continue
        if posixpath.splitext(name)[1] in (".yaml", ".yml"):
            candidates.append(path)

    rules = _IgnoreRules(specs)
    selection = JobFileSelection()
    first_by_base: dict[str, str] = {}
    for path in candidates:
        if specs and rules.ignored(path):
            selection.ignored.append(path)
            continue
        base = posixpath.basename(path)
        earlier = first_by_base.get(base)
        if earlier is not None:
            diags.error(display(path), None,
                        f"duplicated job config file base name {base!r}: {display(earlier)} has the "
                        "same name (base names must be unique across the job config tree)")
            continue
        first_by_base[base] = path
        selection.files.append(path)
    return selection


def list_local_files(root: str | os.PathLike) -> list[str]:
    """Every file below `root`, relative and `/`-separated. Like Go's filepath.Walk, symlinked
    directories are not entered and `..`-prefixed directories are skipped."""
    root = os.fspath(root)
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith("..")]
        relative_dir = os.path.relpath(directory, root)
        for name in filenames:
            relative = name if relative_dir == "." else os.path.join(relative_dir, name)
            found.append(relative.replace(os.sep, "/"))
    return found


def read_local_job_files(root: str | os.PathLike, diags: Diagnostics) -> list[JobFile]:
    """The job files of a local job-config path, decompressed, in Prow's order.

    `root` may also be a single file (Prow accepts one job file as --job-config-path). Diagnostics
    name files as `root/relative`.
    """
    root = os.fspath(root)
    if os.path.isfile(root):
        data = _read_one(root, root, diags)
        return [] if data is None else [JobFile(os.path.basename(root), data)]

    def read(path: str) -> bytes:
        with open(os.path.join(root, path), "rb") as handle:
            return handle.read()

    def display(path: str) -> str:
        return os.path.join(root, path)

    selection = select_job_files(list_local_files(root), read, diags, display=display)
    files = []
    for path in selection.files:
        data = _read_one(os.path.join(root, path), display(path), diags)
        if data is not None:
            files.append(JobFile(path, data))
    return files


def _read_one(full_path: str, shown: str, diags: Diagnostics) -> bytes | None:
    try:
        with open(full_path, "rb") as handle:
            return read_maybe_gzip(handle.read())
    except (OSError, ValueError) as exc:
        diags.error(shown, None, f"cannot read job config file: {exc}")
        return None
