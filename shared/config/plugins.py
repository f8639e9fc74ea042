"""plugins.yaml: which plugins run where, external plugins, and the per-plugin sections.

Behaviour follows Prow's `pkg/plugins/config.go` and `pkg/plugins/plugins.go`:

- `plugins:` accepts the legacy form `org-or-repo: [names]` and the current form
  `org-or-repo: {plugins: [...], excluded_repos: [...]}`; a key with no value enables nothing.
  The two forms cannot be mixed in one file (Prow decodes the whole map one way or the other).
- The plugins of `org/repo` are the org's list (unless the repo is in the org's `excluded_repos`)
  plus the `org/repo` list.
- `external_plugins:` entries apply when the key is the repository's full name or its org;
  `excluded_repos` does not apply to them; the endpoint defaults to `http://<name>` and an empty
  event list means every event.
- Per-plugin sections stay raw (`YMap`/`YList` with lines) until the plugin that reads them
  interprets them; `repo_entry()` resolves Prow's `repos:`-keyed lists.

Unlike Prow, which stops at the first problem, every problem is reported.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .errors import Diagnostics
from .yamlnodes import YList, YMap

# Plugins whose work depends on a service outside GitHub, the build cluster and the app's storage.
# They are accepted in plugins.yaml (a migrated config must load) but this app does not run them.
OUTSIDE_SERVICE_PLUGINS: dict[str, str] = {
    "bugzilla": "it needs a Bugzilla server",
    "jira": "it needs a Jira server",
    "slackevents": "it needs a Slack workspace token",
    "goose": "it needs an Unsplash API key file on the hook's disk",
    "testfreeze": "it reads the Kubernetes project's own release branches and prow.k8s.io",
    "cat": "it replies with pictures from thecatapi.com",
    "dog": "it replies with pictures from random.dog",
    "pony": "it replies with pictures from theponyapi.com",
    "yuks": "it replies with jokes from icanhazdadjoke.com",
}

# Reviewer-requesting plugins that would both request reviews on the same PRs.
MUTUALLY_EXCLUSIVE = (("blunderbuss", "rifle"),)

# Sections holding a list of entries keyed by `repos:` in which Prow rejects an org or repo
# listed twice (`validateRepoDupes`).
_REPO_LIST_SECTIONS_WITHOUT_DUPES = ("approve", "welcome")


@dataclass(frozen=True)
class PluginSet:
    """The `plugins:` entry of one org or org/repo key."""

    key: str
    plugins: tuple[str, ...] = ()
    excluded_repos: tuple[str, ...] = ()
    line: int | None = None
    plugin_lines: tuple[int, ...] = ()

    def line_of(self, plugin: str) -> int | None:
        for name, line in zip(self.plugins, self.plugin_lines):
            if name == plugin:
                return line
        return self.line


@dataclass(frozen=True)
class ExternalPlugin:
    name: str
    endpoint: str
    events: tuple[str, ...] = ()
    key: str = ""
    line: int | None = None

    def handles(self, event: str | None) -> bool:
        return event is None or not self.events or event in self.events


@dataclass
class PluginConfig:
    """plugins.yaml. `raw` is the whole document; `file` is where it came from."""

    file: str = ""
    raw: YMap | None = None
    enabled: dict[str, PluginSet] = field(default_factory=dict)
    external: dict[str, list[ExternalPlugin]] = field(default_factory=dict)
    legacy_syntax: bool = False

    @classmethod
    def empty(cls) -> "PluginConfig":
        return cls()

    # -- enablement -------------------------------------------------------------------------

    def plugins_for(self, org: str, repo: str) -> list[str]:
        """Plugins enabled for org/repo: the org's list unless the repo is excluded, plus the
        repository's own list; each name once, in configuration order."""
        names: list[str] = []
        org_set = self.enabled.get(org)
        if org_set is not None and repo not in org_set.excluded_repos:
            names.extend(org_set.plugins)
        repo_set = self.enabled.get(f"{org}/{repo}")
        if repo_set is not None:
            names.extend(repo_set.plugins)
        return list(dict.fromkeys(names))

    def external_plugins_for(self, org: str, repo: str, event: str | None = None) -> list[ExternalPlugin]:
        """External plugins for org/repo (org-level first) that take `event` (an X-GitHub-Event
        name); with `event` None, all of them."""
        found = [*self.external.get(org, ()), *self.external.get(f"{org}/{repo}", ())]
        return [p for p in found if p.handles(event)]

    def enabled_for(self, plugin: str) -> tuple[dict[str, set[str]], list[str]]:
        """Where `plugin` is enabled: ({org: excluded full repo names}, [org/repo, ...]).

        A repository that enables the plugin itself is not an exception of its org."""
        orgs: dict[str, set[str]] = {}
        repos: list[str] = []
        for key, entry in self.enabled.items():
            if plugin not in entry.plugins:
                continue
            if "/" in key:
                repos.append(key)
            else:
                orgs[key] = {f"{key}/{r}" for r in entry.excluded_repos}
        for full in repos:
            orgs.get(full.split("/", 1)[0], set()).discard(full)
        return orgs, sorted(repos)

    def all_plugin_names(self) -> set[str]:
        return {name for entry in self.enabled.values() for name in entry.plugins}

    # -- per-plugin sections --------------------------------------------------------------------

    def section(self, name: str) -> Any:
        """The raw value of a top-level section (e.g. "approve", "blunderbuss"), or None."""
        return self.raw.get(name) if self.raw is not None else None

    def repo_entry(self, section: str, org: str, repo: str) -> YMap | None:
        """For a list of entries keyed by `repos:` (approve, lgtm, triggers, welcome, ...): the
        first entry listing org/repo, else the first listing org, else None (use the defaults)."""
        entries = self.section(section)
        if not isinstance(entries, list):
            return None
        full = f"{org}/{repo}"
        for wanted in (full, org):
            for entry in entries:
                if isinstance(entry, dict) and wanted in _strings(entry.get("repos")):
                    return entry
        return None


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _line(node: Any, key: Any = None) -> int | None:
    if isinstance(node, YMap):
        return node.line_of(key) if key is not None else node.line
    if isinstance(node, YList):
        return node.line_of(key) if key is not None else node.line
    return None


def _string_list(value: Any, file: str, line: int | None, what: str, diags: Diagnostics) -> tuple[list[str], list[int]]:
    """A YAML list of strings (None is an empty list); anything else is an error."""
    if value is None:
        return [], []
    if not isinstance(value, list):
        diags.error(file, line, f"{what} must be a list of names, not {_kind(value)}")
        return [], []
    names, lines = [], []
    for index, item in enumerate(value):
        item_line = _line(value, index) or line
        if not isinstance(item, str):
            diags.error(file, item_line, f"{what}: {item!r} is not a name")
            continue
        names.append(item)
        lines.append(item_line)
    return names, lines


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def parse_plugin_config(doc: Any, file: str, diags: Diagnostics) -> PluginConfig:
    """Build a PluginConfig from a parsed plugins.yaml and validate it, adding every problem to
    `diags` with its file and line."""
    config = PluginConfig(file=file)
    if doc is None:
        diags.notice(file, None, "no plugins are enabled (the file is empty)")
        return config
    if not isinstance(doc, YMap):
        diags.error(file, _line(doc) or 1, f"plugins config must be a mapping, not {_kind(doc)}")
        return config
    config.raw = doc
    _parse_enabled(config, doc, file, diags)
    _parse_external(config, doc, file, diags)
    _validate(config, doc, file, diags)
    return config


def _parse_enabled(config: PluginConfig, doc: YMap, file: str, diags: Diagnostics) -> None:
    node = doc.get("plugins")
    if node is None:
        diags.notice(file, doc.line_of("plugins") if "plugins" in doc else None,
                     "no plugins are enabled (no `plugins:` entries)")
        return
    if not isinstance(node, YMap):
        diags.error(file, doc.line_of("plugins"),
                    f"`plugins` must map orgs and org/repos to plugins, not {_kind(node)}")
        return
    lists = [key for key, value in node.items() if isinstance(value, list)]
    maps = [key for key, value in node.items() if isinstance(value, dict)]
    config.legacy_syntax = bool(lists) and not maps
    if lists and maps:
        for key in lists:
            diags.error(file, node.line_of(key),
                        f"plugins for {key} use the list syntax while other entries use "
                        f"`plugins:`/`excluded_repos:`; Prow reads one syntax per file: write "
                        f"`{key}: {{plugins: [...]}}`")
    for key, value in node.items():
        name = str(key)
        key_line = node.line_of(key)
        if value is None:
            config.enabled[name] = PluginSet(name, line=key_line)
        elif isinstance(value, list):
            if maps:
                continue
            names, lines = _string_list(value, file, key_line, f"plugins for {name}", diags)
            config.enabled[name] = PluginSet(name, tuple(names), (), key_line, tuple(lines))
        elif isinstance(value, dict):
            names, lines = _string_list(value.get("plugins"), file, _line(value, "plugins"),
                                        f"plugins for {name}", diags)
            excluded, _ = _string_list(value.get("excluded_repos"), file, _line(value, "excluded_repos"),
                                       f"excluded_repos of {name}", diags)
            if excluded and "/" in name:
                diags.notice(file, _line(value, "excluded_repos"),
                             f"excluded_repos of {name} has no effect: it applies to org-level entries only")
            config.enabled[name] = PluginSet(name, tuple(names), tuple(excluded), key_line, tuple(lines))
        else:
            diags.error(file, key_line,
                        f"plugins for {name} must be a list or a mapping with `plugins:`, not {_kind(value)}")
    if config.legacy_syntax:
        diags.notice(file, doc.line_of("plugins"),
                     "`plugins:` uses the deprecated list syntax (`org: [names]`); it still works, "
                     "the current syntax is `org: {plugins: [names], excluded_repos: [repos]}`")
    if not any(entry.plugins for entry in config.enabled.values()):
        diags.notice(file, doc.line_of("plugins"), "no plugins are enabled")


def _parse_external(config: PluginConfig, doc: YMap, file: str, diags: Diagnostics) -> None:
    node = doc.get("external_plugins")
    if node is None:
        return
    if not isinstance(node, YMap):
        diags.error(file, doc.line_of("external_plugins"),
                    f"`external_plugins` must map orgs and org/repos to plugin lists, not {_kind(node)}")
        return
    for key, entries in node.items():
        name_key = str(key)
        key_line = node.line_of(key)
        if entries is None:
            continue
        if not isinstance(entries, list):
            diags.error(file, key_line, f"external plugins for {name_key} must be a list, not {_kind(entries)}")
            continue
        plugins = config.external.setdefault(name_key, [])
        for index, entry in enumerate(entries):
            line = entries.line_of(index) if isinstance(entries, YList) else key_line
            if not isinstance(entry, dict):
                diags.error(file, line, f"external plugin of {name_key} must be a mapping with a name, "
                                        f"not {_kind(entry)}")
                continue
            name = entry.get("name")
            if not isinstance(name, str) or not name:
                diags.error(file, line, f"external plugin of {name_key} has no name")
                continue
            endpoint = entry.get("endpoint")
            if endpoint is not None and not isinstance(endpoint, str):
                diags.error(file, _line(entry, "endpoint"), f"endpoint of external plugin {name} must be a URL")
                endpoint = None
            events, _ = _string_list(entry.get("events"), file, _line(entry, "events"),
                                     f"events of external plugin {name}", diags)
            plugins.append(ExternalPlugin(name, endpoint or f"http://{name}", tuple(events), name_key, line))


def _validate(config: PluginConfig, doc: YMap, file: str, diags: Diagnostics) -> None:
    enabled = config.enabled
    # A plugin listed for an org and again for one of its repos (that the org does not exclude).
    for key, entry in enabled.items():
        if "/" not in key:
            continue
        org, repo = key.split("/", 1)
        org_entry = enabled.get(org)
        if org_entry is None or repo in org_entry.excluded_repos:
            continue
        dupes = [name for name in entry.plugins if name in org_entry.plugins]
        if dupes:
            diags.error(file, entry.line_of(dupes[0]),
                        f"plugin(s) {', '.join(dupes)} enabled for {key} are already enabled for its org "
                        f"{org} (line {org_entry.line_of(dupes[0])}); list each plugin at one level")

    # Mutually exclusive plugins, checked on what each org and each repository ends up with.
    for key, entry in enabled.items():
        if "/" in key:
            org, repo = key.split("/", 1)
            effective = config.plugins_for(org, repo)
        else:
            effective = list(entry.plugins)
        for first, second in MUTUALLY_EXCLUSIVE:
            if first in effective and second in effective and (first in entry.plugins or second in entry.plugins):
                where = entry.line_of(second if second in entry.plugins else first)
                diags.error(file, where, f"{first} and {second} are both enabled for {key}; "
                                         f"they both request reviewers, enable only one")

    # The same external plugin for an org and for one of its repos.
    for key, plugins in config.external.items():
        if "/" not in key:
            continue
        org = key.split("/", 1)[0]
        org_names = {p.name: p for p in config.external.get(org, ())}
        for plugin in plugins:
            if plugin.name in org_names:
                diags.error(file, plugin.line,
                            f"external plugin {plugin.name} for {key} is already configured for its org "
                            f"{org} (line {org_names[plugin.name].line}); configure it at one level")

    for section in _REPO_LIST_SECTIONS_WITHOUT_DUPES:
        _validate_repo_list(doc, section, file, diags)

    _notice_outside_services(config, file, diags)


def _validate_repo_list(doc: YMap, section: str, file: str, diags: Diagnostics) -> None:
    entries = doc.get(section)
    if entries is None:
        return
    if not isinstance(entries, list):
        diags.error(file, doc.line_of(section), f"`{section}` must be a list of entries with `repos:`")
        return
    seen: dict[str, int | None] = {}
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        repos = entry.get("repos")
        for index, name in enumerate(_strings(repos)):
            line = _line(repos, index)
            if name in seen:
                what = "repo" if "/" in name else "org"
                diags.error(file, line, f"{what} {name} is listed twice in `{section}` "
                                        f"(first at line {seen[name]}); only the first entry would apply")
            else:
                seen[name] = line


def _notice_outside_services(config: PluginConfig, file: str, diags: Diagnostics) -> None:
    for plugin, reason in OUTSIDE_SERVICE_PLUGINS.items():
        keys = [key for key, entry in config.enabled.items() if plugin in entry.plugins]
        if not keys:
            continue
        first = config.enabled[keys[0]]
        diags.notice(file, first.line_of(plugin),
                     f"plugin {plugin} (enabled for {_summarise(keys)}) will not run in this app: {reason}")


def _summarise(keys: Iterable[str], limit: int = 3) -> str:
    keys = list(keys)
    shown = ", ".join(keys[:limit])
    return shown if len(keys) <= limit else f"{shown} and {len(keys) - limit} more"


# -- plugin names (checkconfig) ----------------------------------------------------------------------------

@dataclass(frozen=True)
class PluginNames:
    """What plugin names mean, given by the plugin registry (shared.plugins.plugin_names()) so that this
    package never imports the plugins: every name Prow knows, the ones this app implements, and old
    names Prow replaced (old → new)."""

    known: frozenset[str]
    implemented: frozenset[str]
    renamed: Mapping[str, str] = field(default_factory=dict)


def check_plugin_names(config: PluginConfig, names: PluginNames, diags: Diagnostics) -> None:
    """checkconfig's check of the names under `plugins:`: a name Prow does not know is an error (Prow's
    checkconfig rejects it; its hook would silently ignore it), with the closest known name suggested.
    A renamed plugin, and one Prow knows but this app does not run yet, get a notice."""
    file = config.file
    seen: dict[str, list[str]] = {}
    for key, entry in config.enabled.items():
        for name in entry.plugins:
            seen.setdefault(name, []).append(key)
            if name in names.known or name in names.renamed:
                continue
            close = difflib.get_close_matches(name, sorted(names.known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            diags.error(file, entry.line_of(name), f"unknown plugin {name!r} enabled for {key}: Prow has no "
                                                   f"plugin of that name{hint}")
    for name, keys in seen.items():
        line = config.enabled[keys[0]].line_of(name)
        if name in names.renamed:
            diags.notice(file, line, f"plugin {name} (enabled for {_summarise(keys)}) was renamed "
                                     f"{names.renamed[name]} in Prow; the old name does nothing (as in "
                                     f"Prow's hook): list {names.renamed[name]} instead")
        elif name in names.known and name not in names.implemented and name not in OUTSIDE_SERVICE_PLUGINS:
            diags.notice(file, line, f"plugin {name} (enabled for {_summarise(keys)}) is not implemented by "
                                     f"this app yet; events for it are not handled")

