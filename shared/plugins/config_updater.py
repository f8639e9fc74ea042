"""config-updater: when a PR that changes mapped files merges into the default branch, publish the
files where the app reads its config (Prow's pkg/plugins/updateconfig, spec §12b).

Prow writes each file matching a `config_updater.maps` glob into a ConfigMap (key: the file's
basename, or `key`, or the path with dashes under `use_full_path_as_key`; removed files and the old
name of a renamed file delete their key) and replies `Updated the ... configmap ...`. Here a
ConfigMap is a blob "directory" in the app's storage, the one its config setting points into:

    ConfigMap     blob directory
    config        the directory of PROW_CONFIG_PATH          (config.yaml is the key config.yaml)
    plugins       the directory of PROW_PLUGIN_CONFIG_PATH
    job-config    PROW_JOB_CONFIG_PATH (its directory when it names one blob)

and a key is a blob in it. Other ConfigMap names (label-config, ...) mean nothing to this app and
are skipped; `clusters`, `namespace` and `cluster_groups` do not apply (one app, one storage).

Unlike Prow, the change is validated before anything is written: the config as it would be with the
new files is loaded and checked as checkconfig checks it; with errors nothing is written and the
PR gets a comment listing them (file:line, named by the repository paths). Publishing compares
content first, so a retried delivery writes nothing twice.
"""
from __future__ import annotations

import gzip
import posixpath
from dataclasses import dataclass
from typing import Any

from shared.events import PullRequestEvent
from shared.plugins.registry import Plugin, PluginContext, PluginHelp, register
from shared.plugins.respond import format_response_raw

# Prow's maps when none are configured (plugins.ConfigUpdater.SetDefaults).
DEFAULT_MAPS = {"config/prow/config.yaml": {"name": "config"}, "config/prow/plugins.yaml": {"name": "plugins"}}
CONFIG_MAPS = ("config", "job-config", "plugins")
MAX_ERRORS_SHOWN = 50


@dataclass(frozen=True)
class MapSpec:
    """One entry of `config_updater.maps`."""

    pattern: str
    name: str
    key: str = ""
    gzip: bool = False
    use_full_path_as_key: bool = False
    allowed_repos: tuple[str, ...] = ()
    denied_repos: tuple[str, ...] = ()

    def allows(self, full_repo: str) -> bool:
        """The map's repository ACL: a denied org or org/repo never, else any unless `allowed_repos` lists some."""
        names = {full_repo, full_repo.split("/", 1)[0]}
        if names & set(self.denied_repos):
            return False
        return not self.allowed_repos or bool(names & set(self.allowed_repos))

    def key_for(self, filename: str) -> str:
        if self.key:
            return self.key
        return filename.replace("/", "-") if self.use_full_path_as_key else posixpath.basename(filename)

    def matches(self, filename: str) -> bool:
        """zglob's match: `**` spans directories, `*` does not, `{a,b}` alternates."""
        from wcmatch import glob
        return glob.globmatch(filename, self.pattern, flags=glob.GLOBSTAR | glob.BRACE)


@dataclass(frozen=True)
class Update:
    """A key to write from `filename` at the merge commit, or to delete (`filename` empty)."""

    configmap: str
    key: str
    filename: str = ""
    gzip: bool = False


def map_specs(plugin_config) -> list[MapSpec]:
    section = plugin_config.section("config_updater") if plugin_config is not None else None
    section = section if isinstance(section, dict) else {}
    maps = section.get("maps") if isinstance(section.get("maps"), dict) and section.get("maps") else DEFAULT_MAPS
    default_gzip = section.get("gzip") is True
    specs = []
    for pattern, spec in maps.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            continue
        own_gzip = spec.get("gzip")
        specs.append(MapSpec(str(pattern), spec["name"], spec.get("key") if isinstance(spec.get("key"), str) else "",
                             own_gzip if isinstance(own_gzip, bool) else default_gzip,
                             spec.get("use_full_path_as_key") is True, _names(spec.get("allowed_repos")),
                             _names(spec.get("denied_repos"))))
    return specs


def _names(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def updates_for(specs: list[MapSpec], changes: list[dict], full_repo: str = "") -> list[Update]:
    """Prow's FilterChanges: the first map whose glob matches each changed file, if its ACL lets
    `full_repo` update it."""
    out: list[Update] = []
    for change in changes:
        filename = change.get("filename") or ""
        spec = next((s for s in specs if s.matches(filename)), None)
        if spec is None or (full_repo and not spec.allows(full_repo)):
            continue
        status = change.get("status")
        if status == "renamed" and not spec.key:
            out.append(Update(spec.name, spec.key_for(change.get("previous_filename") or "")))
        if status == "removed":
            out.append(Update(spec.name, spec.key_for(filename)))
        else:
            out.append(Update(spec.name, spec.key_for(filename), filename, spec.gzip))
    return out


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    config = None
    if len(enabled_repos) == 1:
        config = {"": "".join(f"Files matching {enabled_repos[0]}/{spec.pattern} are used to populate the "
                              f"{spec.name} ConfigMap in " for spec in map_specs(plugin_config))}
    return PluginHelp(
        description=("The config-updater plugin automatically redeploys configuration and plugin configuration "
                     "files when they change. The plugin watches for pull request merges that modify either of "
                     "the config files and updates the cluster's configmap resources in response."),
        config=config)


PLUGIN = register(Plugin("config-updater", _help))


def _directories(source, listing: dict) -> dict[str, Any]:
    """ConfigMap name → the BlobLocation of its directory (only for config read from blobs)."""
    from shared.config.source import BlobLocation
    config, jobs, plugins = source.locations

    def parent(location: BlobLocation) -> BlobLocation:
        return BlobLocation(location.container, posixpath.dirname(location.name))

    dirs: dict[str, BlobLocation] = {}
    if isinstance(config, BlobLocation):
        dirs["config"] = parent(config)
    if isinstance(plugins, BlobLocation):
        dirs["plugins"] = parent(plugins)
    if isinstance(jobs, BlobLocation):
        dirs["job-config"] = parent(jobs) if (jobs.container, jobs.name) in listing else jobs
    return dirs


def _blob(directory, key: str):
    from shared.config.source import BlobLocation
    return BlobLocation(directory.container, posixpath.join(directory.name, key) if directory.name else key)


def _where(directory) -> str:
    return f"blob://{directory.container}/{directory.name + '/' if directory.name else ''}"


def _message(updates: list[Update], dirs: dict) -> str:
    """Prow's reply, the blob directory standing where Prow names the namespace and cluster."""
    names = sorted({u.configmap for u in updates})
    indent = "   " if len(names) > 1 else " "
    parts = []
    for name in names:
        lines = [f"`{name}` configmap in `{_where(dirs[name])}` using the following files:"]
        lines += [f"{indent}- key `{u.key}` using file `{u.filename}`" for u in updates if u.configmap == name]
        parts.append("\n".join(lines))
    if len(parts) == 1:
        return f"Updated the {parts[0]}"
    return f"Updated the following {len(parts)} configmaps:\n" + "".join(f" * {p}\n" for p in parts)


def _refusal(diagnostics: list, names: dict[str, str]) -> str:
    shown = []
    for d in diagnostics[:MAX_ERRORS_SHOWN]:
        file = names.get(d.file, d.file)
        shown.append(f"{file}:{d.line}: {d.message}" if d.line else f"{file}: {d.message}")
    more = len(diagnostics) - len(shown)
    listing = "\n".join(shown) + (f"\n... and {more} more" if more > 0 else "")
    return (f"The configuration changed here was not applied: it does not pass checkconfig "
            f"({len(diagnostics)} error(s)). The app keeps serving the previous configuration.\n\n"
            f"```\n{listing}\n```")


@PLUGIN.on(PullRequestEvent)
def handle(ctx: PluginContext, event: PullRequestEvent) -> None:
    pr = event.pull_request
    if event.action != "closed" or not pr.merged or not pr.merge_commit_sha:
        return
    if pr.base.repo.default_branch != pr.base.ref:
        return
    org, repo = pr.base.repo.org, pr.base.repo.name
    specs = map_specs(ctx.plugin_config)
    gh = ctx.github
    updates = []
    for update in updates_for(specs, gh.list_pull_files(org, repo, pr.number), f"{org}/{repo}"):
        if update.configmap in CONFIG_MAPS:
            updates.append(update)
        else:
            ctx.log.info("config-updater: ConfigMap %s (key %s) is not read by this app; skipped",
                         update.configmap, update.key)
    if not updates:
        return

    from shared.cli.checkconfig import check_loaded
    from shared.config.loader import DEFAULT_WARNINGS
    from shared.config.source import default_source
    source = default_source()
    listing = source.blob_listing() if source.uses_blobs else {}
    dirs = _directories(source, listing)
    missing = sorted({u.configmap for u in updates if u.configmap not in dirs})
    if missing:
        ctx.log.error("config-updater: ConfigMap(s) %s changed, but their config settings do not name blob "
                      "locations; nothing is published", ", ".join(missing))
        return

    changes: dict = {}
    repo_names: dict[str, str] = {}
    for update in updates:
        location = _blob(dirs[update.configmap], update.key)
        if not update.filename:
            changes[location] = None
            continue
        content = gh.get_file(org, repo, update.filename, ref=pr.merge_commit_sha)
        if content is None:
            ctx.log.error("config-updater: %s is not in %s/%s at %s; nothing is published", update.filename,
                          org, repo, pr.merge_commit_sha)
            return
        changes[location] = gzip.compress(content, mtime=0) if update.gzip else content
        repo_names[str(location)] = update.filename

    loaded = check_loaded(source.load_with(changes, listing=listing, warnings=DEFAULT_WARNINGS), DEFAULT_WARNINGS)
    if loaded.errors:
        ctx.log.warning("config-updater: the config merged in %s/%s#%d has %d error(s); not published", org, repo,
                        pr.number, len(loaded.errors))
        reply = _refusal(sorted(loaded.errors, key=lambda d: (d.file, d.line or 0)), repo_names)
    else:
        written = source.publish(changes)
        ctx.log.info("config-updater: published %d blob(s) from %s/%s#%d (%s)", len(written), org, repo,
                     pr.number, pr.merge_commit_sha)
        reply = _message(updates, dirs)
    ctx.create_comment_once(org, repo, pr.number, format_response_raw(pr.body, pr.html_url, pr.user.login, reply))
