"""A repository's OWNERS at a branch, read through the GitHub API, and the lookups Prow's plugins make.

    owners = load_repo_owners(ctx.github, org, repo, base_branch, plugins=ctx.plugin_config,
                              prow=ctx.config.prow)
    owners.approvers_for("pkg/util/sets/set.go")              # every approver up the tree (a frozenset)
    owners.leaf_approvers("pkg/util/sets/set.go")             # the closest non-empty level only
    owners.find_approver_owners_for_file("pkg/util/set.go")   # "pkg/util": the unit of approval ("" = root)
    owners.reviewer_layers(path)                              # closest layer first (blunderbuss)
    owners.prefetch(changed_files)                            # optional: read what those need in one request

Prow clones the repository and walks it (pkg/repoowners). We ask for the base branch's tree once
(`git/trees/<branch>?recursive=1`: one request, a 304 when the branch has not moved) and read only the
OWNERS files a lookup needs, by blob sha: a blob is content-addressed, so a cached copy is used without
asking GitHub again, and what was parsed is kept per process. So a lookup reads at most the OWNERS files
on the path of the file it is asked about, and only the first time; `prefetch(paths)` reads all those
that lookups for many paths will need in one GraphQL request.

Semantics are Prow's (spec §5.1): a path's owners are collected from its directory up to the root,
stopping above a directory with `no_parent_owners` once something was found; filters are searched
against the path relative to the OWNERS file's directory; directories of config.yaml's
`owners_dir_denylist` (and Prow's built-in `\\.git$`, `_output$`, `vendor/.*/.*`) are skipped with
everything below them; with `owners.mdyamlrepos`, the YAML front matter of a Markdown file owns that
file. Unless plugins.yaml `owners.skip_collaborators` lists the org or the repo, approvers and reviewers
who are not collaborators of the repository are dropped (required reviewers and labels are not), which
can move the unit of approval up to a parent directory, as in Prow.
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from shared.config.regex import RE2Error, compile_re2
from shared.events import norm_login
from shared.owners.parse import (Aliases, Entry, Options, OwnersFile, OwnersParseError, parse_aliases_lenient,
                                 parse_md_front_matter, parse_owners)

log = logging.getLogger(__name__)

DEFAULT_OWNERS = "OWNERS"
DEFAULT_OWNERS_ALIASES = "OWNERS_ALIASES"
PRECONFIGURED_DENYLIST = ("\\.git$", "_output$", "vendor/.*/.*")
DEFAULT_LABELS_DENYLIST = ("approved", "lgtm")
SYMLINK_MODE = "120000"


@dataclass(frozen=True)
class OwnersSettings:
    """What plugins.yaml `owners:` and config.yaml `owners_dir_denylist` say about one repository."""
    owners_filename: str = DEFAULT_OWNERS
    aliases_filename: str = DEFAULT_OWNERS_ALIASES
    skip_collaborators: bool = False
    mdyaml: bool = False
    dir_denylist: tuple[str, ...] = PRECONFIGURED_DENYLIST
    labels_denylist: tuple[str, ...] = DEFAULT_LABELS_DENYLIST
    skip_collaborators_exact: bool = False  # verify-owners' reading: only "org/repo" counts (spec §11)

    @classmethod
    def for_repo(cls, org: str, repo: str, *, plugins: Any = None, prow: Any = None) -> OwnersSettings:
        """From a PluginConfig (`plugins`) and a ProwConfig (`prow`); either may be None."""
        section = plugins.section("owners") if plugins is not None else None
        section = section if isinstance(section, Mapping) else {}
        full = f"{org}/{repo}"
        names = section.get("filenames")
        names = names.get(full) if isinstance(names, Mapping) else None
        names = names if isinstance(names, Mapping) else {}
        denied = section.get("labels_denylist")
        if not isinstance(denied, list):
            denied = section.get("labels_blacklist")
        return cls(
            owners_filename=_text(names.get("owners")) or DEFAULT_OWNERS,
            aliases_filename=_text(names.get("owners_aliases")) or DEFAULT_OWNERS_ALIASES,
            skip_collaborators=bool({org, full} & set(_texts(section.get("skip_collaborators")))),
            skip_collaborators_exact=full in _texts(section.get("skip_collaborators")),
            mdyaml=bool({org, full} & set(_texts(section.get("mdyamlrepos")))),
            dir_denylist=_dir_denylist(prow.raw.get("owners_dir_denylist") if prow is not None else None, org, repo),
            labels_denylist=tuple(_texts(denied)) if isinstance(denied, list) else DEFAULT_LABELS_DENYLIST)



def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _texts(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _dir_denylist(section: Any, org: str, repo: str) -> tuple[str, ...]:
    """Prow's OwnersDirDenylist.ListIgnoredDirs."""
    section = section if isinstance(section, Mapping) else {}
    patterns = _texts(section.get("default"))
    repos = section.get("repos") if isinstance(section.get("repos"), Mapping) else {}
    patterns += _texts(repos.get(org)) + _texts(repos.get(f"{org}/{repo}"))
    if section.get("ignore_preconfigured_defaults") is not True:
        patterns += PRECONFIGURED_DENYLIST
    return tuple(patterns)


def parent_dir(path: str) -> str:
    """The directory of a repository path, "" for the root (Prow's canonicalize(filepath.Dir))."""
    return path.rsplit("/", 1)[0] if "/" in path else ""


def relative_path(directory: str, path: str) -> str:
    if directory == path:
        return "."
    return path[len(directory) + 1:] if directory else path


# -- what one tree holds ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TreeIndex:
    """Where a tree's OWNERS files are: directory -> blob sha (denylisted directories left out),
    Markdown files -> blob sha (only with mdyaml), and the root aliases file's blob sha."""
    sha: str
    owners: Mapping[str, str]
    markdown: Mapping[str, str]
    aliases: str | None
    truncated: bool = False


def denylist_checker(settings: OwnersSettings) -> Callable[[str], bool]:
    """Whether Prow's walk skips a directory: it or an ancestor matches `owners_dir_denylist` (the
    root is matched as ".")."""
    denylist = []
    for pattern in settings.dir_denylist:
        try:
            denylist.append(compile_re2(pattern))
        except RE2Error:
            log.error("invalid OWNERS dir denylist regexp %r", pattern)
    denied_cache: dict[str, bool] = {}

    def denied(directory: str) -> bool:
        """Whether the walk skips `directory` (it or an ancestor matches; the root is ".")."""
        if directory not in denied_cache:
            rel = directory or "."
            denied_cache[directory] = (any(p.search(rel) for p in denylist)
                                       or (directory != "" and denied(parent_dir(directory))))
        return denied_cache[directory]
    return denied


def index_tree(tree: Mapping[str, Any], settings: OwnersSettings) -> TreeIndex:
    """Read a `git/trees?recursive=1` answer."""
    denied = denylist_checker(settings)
    owners: dict[str, str] = {}
    markdown: dict[str, str] = {}
    aliases = None
    for entry in tree.get("tree") or ():
        if entry.get("type") != "blob" or entry.get("mode") == SYMLINK_MODE:
            continue
        path, sha = entry.get("path") or "", entry.get("sha") or ""
        name = path.rsplit("/", 1)[-1]
        if path == settings.aliases_filename:
            aliases = sha
        directory = parent_dir(path)
        if name == settings.owners_filename and not denied(directory):
            owners[directory] = sha
        elif settings.mdyaml and name.endswith(".md") and not denied(directory):
            markdown[path] = sha
    return TreeIndex(tree.get("sha") or "", owners, markdown, aliases, bool(tree.get("truncated")))


# -- lookups ---------------------------------------------------------------------------------------------

class RepoOwners:
    """The OWNERS of one repository at one tree (Prow's repoowners.RepoOwner), read lazily.

    Paths are repository paths without a leading "/"; directories too ("" is the root). Every set
    holds normalised logins (lower case, no "@")."""

    def __init__(self, index: TreeIndex, read_blob: Callable[[str], bytes], *,
                 settings: OwnersSettings = OwnersSettings(),
                 collaborators: Callable[[], frozenset[str] | None] | None = None,
                 read_blobs: Callable[[list[str]], Any] | None = None):
        self.index = index
        self.settings = settings
        self._read_blob = read_blob
        self._read_blobs = read_blobs
        self._collaborators_source = collaborators
        self._collaborators: frozenset[str] | None = None
        self._collaborators_read = collaborators is None or settings.skip_collaborators
        self._aliases: Aliases | None = None
        self._files: dict[str, OwnersFile | None] = {}
        self._errors: dict[str, OwnersParseError] = {}
        self._lookups: dict[tuple[str, str, bool], list[frozenset[str]]] = {}
        self._units: dict[tuple[str, str, str], str] = {}
        self._lock = threading.RLock()

    @classmethod
    def from_files(cls, files: Mapping[str, str | bytes], *, settings: OwnersSettings = OwnersSettings(),
                   collaborators: Iterable[str] | None = None) -> RepoOwners:
        """From {path: content} (tests, and a PR's proposed files); `collaborators` None = unfiltered."""
        blobs = {f"blob:{path}": content if isinstance(content, bytes) else content.encode()
                 for path, content in files.items()}
        tree = {"sha": "", "tree": [{"path": p, "type": "blob", "mode": "100644", "sha": f"blob:{p}"} for p in files]}
        known = None if collaborators is None else frozenset(norm_login(c) for c in collaborators)
        return cls(index_tree(tree, settings), blobs.__getitem__, settings=settings,
                   collaborators=None if known is None else (lambda: known))

    # -- reading

    @property
    def aliases(self) -> Aliases:
        with self._lock:
            if self._aliases is None:
                sha = self.index.aliases
                self._aliases = parse_aliases_lenient(self._read_blob(sha)) if sha else {}
            return self._aliases

    def owners_file(self, key: str) -> OwnersFile | None:
        """The decoded OWNERS of a directory (or a Markdown file's front matter), None when there is
        none or it does not decode (see `parse_error`)."""
        with self._lock:
            if key not in self._files:
                self._files[key] = self._load(key)
            return self._files[key]

    def prefetch(self, paths: Iterable[str]) -> None:
        """Read, in one go, the OWNERS files that lookups for `paths` may need (those in their
        directories and above, and the aliases) and have not been parsed yet. Optional: without it,
        each is read when first needed."""
        if self._read_blobs is None:
            return
        keys: set[str] = set()
        for path in paths:
            if path in self.index.markdown:
                keys.add(path)
            directory = parent_dir(path)
            while True:
                if directory in self.index.owners:
                    keys.add(directory)
                if directory == "":
                    break
                directory = parent_dir(directory)
        aliases = self.index.aliases or ""

        def unread(key: str) -> bool:
            if key in self._files:
                return False
            return key in self.index.markdown or _PARSED.get((self.index.owners[key], aliases)) is None
        wanted = [self.index.markdown.get(k) or self.index.owners[k] for k in sorted(keys) if unread(k)]
        if wanted and self.index.aliases:
            wanted.append(self.index.aliases)
        if wanted:
            self._read_blobs(wanted)

    def parse_error(self, directory: str) -> OwnersParseError | None:
        self.owners_file(directory)
        return self._errors.get(directory)

    def _load(self, key: str) -> OwnersFile | None:
        if key in self.index.owners:
            sha = self.index.owners[key]
            cache_key = (sha, self.index.aliases or "")
            cached = None if sha.startswith("blob:") else _PARSED.get(cache_key)
            if cached is not None:
                return cached
            try:
                parsed = parse_owners(self._read_blob(sha), self.aliases)
            except OwnersParseError as exc:
                log.debug("%s does not decode as OWNERS: %s", self.owners_path(key), exc)
                self._errors[key] = exc
                return None
            if not sha.startswith("blob:"):  # from_files: not a git sha
                _PARSED.put(cache_key, parsed)
            return parsed
        if key in self.index.markdown:
            return parse_md_front_matter(self._read_blob(self.index.markdown[key]), self.aliases)
        return None

    def collaborators(self) -> frozenset[str] | None:
        """The repository's collaborators, or None when approvers and reviewers are not filtered."""
        with self._lock:
            if not self._collaborators_read:
                self._collaborators = self._collaborators_source()
                self._collaborators_read = True
            return self._collaborators

    # -- Prow's RepoOwner

    def owners_path(self, directory: str) -> str:
        """How a unit of approval is shown: `dir/OWNERS`, `OWNERS` for the root."""
        name = self.settings.owners_filename
        return f"{directory}/{name}" if directory else name

    def options(self, key: str) -> Options:
        found = self.owners_file(key) if key in self.index.owners or key in self.index.markdown else None
        return found.options if found is not None else Options()

    def is_no_parent_owners(self, directory: str) -> bool:
        return self.options(directory).no_parent_owners

    def is_auto_approve_unowned_subfolders(self, directory: str) -> bool:
        return self.options(directory).auto_approve_unowned_subfolders

    def _people(self, entry: Entry, role: str) -> frozenset[str]:
        people = entry.role(role)
        if role in ("approvers", "reviewers") and people:
            known = self.collaborators()
            if known is not None:
                return people & known
        return people

    def _entries(self, key: str) -> tuple[Entry, ...]:
        if key not in self.index.owners and key not in self.index.markdown:
            return ()
        found = self.owners_file(key)
        return found.entries if found is not None else ()

    def _layers(self, path: str, role: str, *, leaf_only: bool = False) -> list[frozenset[str]]:
        """Prow's entriesForFile: one set per level that has some, closest first (remembered: the
        approve plugin asks the same paths many times)."""
        key = (path, role, leaf_only)
        if key not in self._lookups:
            self._lookups[key] = self._walk(path, role, leaf_only)
        return self._lookups[key]

    def _walk(self, path: str, role: str, leaf_only: bool) -> list[frozenset[str]]:
        layers: list[frozenset[str]] = []
        key = path
        while True:
            rel = relative_path(key, path)
            found: set[str] = set()
            for entry in self._entries(key):
                if entry.applies_to(rel):
                    found |= self._people(entry, role)
            if found:
                layers.append(frozenset(found))
            if layers and (leaf_only or self.is_no_parent_owners(key)):
                break
            if key == "":
                break
            key = parent_dir(key)
        return layers

    def _find_owners(self, path: str, role: str) -> str:
        memo = (path, role, "find")
        if memo not in self._units:
            self._units[memo] = self._find_walk(path, role)
        return self._units[memo]

    def _find_walk(self, path: str, role: str) -> str:
        key = path
        while key != "":
            rel = relative_path(key, path)
            if any(entry.applies_to(rel) and self._people(entry, role) for entry in self._entries(key)):
                return key
            key = parent_dir(key)
        return ""

    def approver_layers(self, path: str) -> list[frozenset[str]]:
        return list(self._layers(path, "approvers"))

    def approvers_for(self, path: str) -> frozenset[str]:
        """Everyone who may approve `path` (Prow's Approvers(path).Set())."""
        return frozenset().union(*self.approver_layers(path))

    def leaf_approvers(self, path: str) -> frozenset[str]:
        layers = self._layers(path, "approvers", leaf_only=True)
        return layers[0] if layers else frozenset()

    def reviewer_layers(self, path: str) -> list[frozenset[str]]:
        return list(self._layers(path, "reviewers"))

    def reviewers_for(self, path: str) -> frozenset[str]:
        return frozenset().union(*self.reviewer_layers(path))

    def leaf_reviewers(self, path: str) -> frozenset[str]:
        layers = self._layers(path, "reviewers", leaf_only=True)
        return layers[0] if layers else frozenset()

    def required_reviewers(self, path: str) -> frozenset[str]:
        return frozenset().union(*self._layers(path, "required_reviewers"))

    def labels_for(self, path: str) -> frozenset[str]:
        return frozenset().union(*self._layers(path, "labels"))

    def find_approver_owners_for_file(self, path: str) -> str:
        """The closest directory below the root whose OWNERS has approvers for `path`; "" otherwise."""
        return self._find_owners(path, "approvers")

    def find_reviewers_owners_for_file(self, path: str) -> str:
        return self._find_owners(path, "reviewers")

    def top_level_approvers(self) -> frozenset[str]:
        """The root OWNERS' approvers (filters that match "." included), as Prow's TopLevelApprovers."""
        found: set[str] = set()
        for entry in self._entries(""):
            if entry.applies_to("."):
                found |= self._people(entry, "approvers")
        return frozenset(found)


class _LRU:
    def __init__(self, size: int):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


# Parsed OWNERS by (blob sha, aliases blob sha): content-addressed, so never stale.
_PARSED = _LRU(4096)


def load_repo_owners(gh: Any, org: str, repo: str, base: str, *, plugins: Any = None, prow: Any = None,
                     settings: OwnersSettings | None = None) -> RepoOwners:
    """The OWNERS of org/repo at the head of branch `base`, through `gh` (an EventSession).

    One request for the tree (a 304 when the branch has not moved); OWNERS files and the collaborators
    list are read when a lookup first needs them. A failure to list collaborators other than a rate
    limit or a transient error leaves approvers and reviewers unfiltered, as in Prow."""
    settings = settings or OwnersSettings.for_repo(org, repo, plugins=plugins, prow=prow)
    index = index_tree(gh.get_tree(org, repo, base, recursive=True), settings)
    if index.truncated:
        log.warning("%s/%s: GitHub truncated the tree of %s; OWNERS files beyond it are not seen", org, repo, base)

    def collaborators() -> frozenset[str] | None:
        from shared.github.errors import GitHubError, RateLimited, TransientError
        try:
            return frozenset(norm_login(c.get("login") or "") for c in gh.list_collaborators(org, repo))
        except (RateLimited, TransientError):
            raise
        except GitHubError as exc:
            log.error("listing collaborators of %s/%s failed, OWNERS are not filtered: %s", org, repo, exc)
            return None

    return RepoOwners(index, lambda sha: gh.get_blob(org, repo, sha), settings=settings,
                      collaborators=collaborators, read_blobs=lambda shas: gh.get_blobs(org, repo, shas))
