"""size: one `size/XS` ... `size/XXL` label per pull request from the lines it changes (additions plus
deletions), without generated files (Prow's pkg/plugins/size/size.go, spec §6.5). PR actions opened,
reopened, synchronize and edited.

Generated files are those named by the root `.generated_files` (Prow's pkg/genfiles) and by root
`.gitattributes` lines with `linguist-generated=true` (Prow's pkg/gitattributes), both read at the
base SHA. Thresholds are the lower bounds of `size: {s, m, l, xl, xxl}`; 0 or unset takes Prow's
default (10, 30, 100, 500, 1000).

Fewer requests than Prow: the two files are found through the base commit's root tree (one request,
a free 304 when cached) instead of two reads that are usually 404s; the labels come from the payload;
and when the repository marks no file as generated the payload's `additions` and `deletions` are the
count, so the changed files are not listed.
"""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from shared.events import PullRequestEvent
from shared.plugins.registry import Plugin, PluginContext, PluginHelp, register

ACTIONS = frozenset({"opened", "reopened", "synchronize", "edited"})
DEFAULT_SIZES = {"s": 10, "m": 30, "l": 100, "xl": 500, "xxl": 1000}
LABEL_PREFIX = "size/"
LABELS = ("size/XS", "size/S", "size/M", "size/L", "size/XL", "size/XXL")


def sizes(plugin_config) -> dict[str, int]:
    section = plugin_config.section("size") if plugin_config is not None else None
    section = section if isinstance(section, dict) else {}
    return {key: value if isinstance(value, int) and not isinstance(value, bool) and value else default
            for key, default in DEFAULT_SIZES.items()
            for value in [section.get(key)]}


def size_label(count: int, bounds: dict[str, int]) -> str:
    for label, key in zip(LABELS, ("s", "m", "l", "xl", "xxl")):
        if count < bounds[key]:
            return label
    return LABELS[-1]


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    b = sizes(plugin_config)
    return PluginHelp(
        description=("The size plugin manages the 'size/*' labels, maintaining the appropriate label on each pull "
                     "request as it is updated. Generated files identified by the config file '.generated_files' at "
                     "the repo root are ignored. Labels are applied based on the total number of lines of changes "
                     "(additions and deletions)."),
        config={"": (f"The plugin has the following thresholds:<ul>\n<li>size/XS:  0-{b['s'] - 1}</li>\n"
                     f"<li>size/S:   {b['s']}-{b['m'] - 1}</li>\n<li>size/M:   {b['m']}-{b['l'] - 1}</li>\n"
                     f"<li>size/L:   {b['l']}-{b['xl'] - 1}</li>\n<li>size/XL:  {b['xl']}-{b['xxl'] - 1}</li>\n"
                     f"<li>size/XXL: {b['xxl']}+</li>\n</ul>")})


PLUGIN = register(Plugin("size", _help))


# -- generated files ----------------------------------------------------------------------------------

def _statements(text: str):
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


@dataclass
class GeneratedFiles:
    """Prow's genfiles.Group plus the linguist-generated patterns of .gitattributes."""

    paths: set[str] = field(default_factory=set)
    file_names: set[str] = field(default_factory=set)
    path_prefixes: set[str] = field(default_factory=set)
    file_prefixes: set[str] = field(default_factory=set)
    linguist: list[re.Pattern] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.paths or self.file_names or self.path_prefixes or self.file_prefixes or self.linguist)

    def load_generated_files(self, text: str) -> list[str]:
        """Read `.generated_files`; returns the `paths-from-repo` files to load. Stops at an invalid line,
        keeping what came before it, as Prow does (it logs the parse error and carries on)."""
        from_repo = []
        for line in _statements(text):
            fields = line.split()
            if len(fields) != 2:
                break
            key, value = fields
            if key in ("prefix", "path-prefix"):
                self.path_prefixes.add(value)
            elif key == "file-prefix":
                self.file_prefixes.add(value)
            elif key in ("file-name", "path"):   # Prow files `path` as a leaf name too
                self.file_names.add(value)
            elif key == "paths-from-repo":
                from_repo.append(value)
            else:
                break
        return from_repo

    def load_paths(self, text: str) -> None:
        self.paths.update(_statements(text))

    def load_gitattributes(self, text: str) -> None:
        for line in _statements(text):
            fields = line.split()
            if len(fields) >= 2 and "linguist-generated=true" in fields[1:] and not fields[0].startswith("!"):
                self.linguist.append(gitattributes_pattern(fields[0]))

    def match(self, path: str) -> bool:
        base = posixpath.basename(path)
        return (path in self.paths or any(path.startswith(p) for p in self.path_prefixes)
                or base in self.file_names or any(base.startswith(p) for p in self.file_prefixes)
                or any(p.fullmatch(path) for p in self.linguist))


def gitattributes_pattern(pattern: str) -> re.Pattern:
    """A .gitattributes path pattern as a regex over the repository path: without a slash it matches the
    file name in any directory; with one it is anchored at the root, `**` spanning directories."""
    anchored = "/" in pattern
    out, i, glob = [], 0, pattern.lstrip("/")
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        elif glob[i] == "[" and "]" in glob[i + 2:]:
            end = glob.index("]", i + 2)
            out.append("[" + glob[i + 1:end].replace("!", "^", 1 if glob[i + 1] == "!" else 0) + "]")
            i = end + 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return re.compile(("" if anchored else "(?:.*/)?") + "".join(out), re.S)


def _text(data: bytes | None) -> str:
    return data.decode("utf-8", "replace") if data else ""


def generated_files(ctx: PluginContext, org: str, repo: str, sha: str) -> GeneratedFiles:
    """The base commit's root tree says whether the two files exist (one request, a free 304 once
    cached: the tree of a commit never changes), then their blobs, which are fetched once ever."""
    gh = ctx.github
    root = {e.get("path"): e.get("sha") for e in gh.get_tree(org, repo, sha).get("tree") or []
            if e.get("type") == "blob"}

    def root_file(name: str) -> bytes | None:
        return gh.get_blob(org, repo, root[name]) if name in root else None

    group = GeneratedFiles()
    for path in group.load_generated_files(_text(root_file(".generated_files"))):
        group.load_paths(_text(gh.get_file(org, repo, path, sha)))
    group.load_gitattributes(_text(root_file(".gitattributes")))
    return group


def _payload_count(payload: Any) -> int | None:
    pr = payload.get("pull_request") if isinstance(payload, dict) else None
    if not isinstance(pr, dict):
        return None
    additions, deletions = pr.get("additions"), pr.get("deletions")
    if isinstance(additions, int) and isinstance(deletions, int):
        return additions + deletions
    return None


@PLUGIN.on(PullRequestEvent)
def handle(ctx: PluginContext, event: PullRequestEvent) -> None:
    if event.action not in ACTIONS:
        return
    pr = event.pull_request
    org, repo = pr.base.repo.org, pr.base.repo.name
    gh = ctx.github
    generated = generated_files(ctx, org, repo, pr.base.sha)
    count = None if generated else _payload_count(event.payload)
    if count is None:
        count = sum(int(f.get("additions") or 0) + int(f.get("deletions") or 0)
                    for f in gh.list_pull_files(org, repo, pr.number) if not generated.match(f.get("filename", "")))
    wanted = size_label(count, sizes(ctx.plugin_config))
    for label in pr.labels:
        if label.name != wanted and label.name.startswith(LABEL_PREFIX):
            ctx.best_effort(f"removing {label.name}", lambda name=label.name: gh.remove_label(org, repo, pr.number, name))
    if not any(label.name == wanted for label in pr.labels):
        gh.add_labels(org, repo, pr.number, [wanted])
