"""`GET /api/plugin-help`: plugin and command help as Prow's hook serves it at `/plugin-help`
(pkg/pluginhelp/hook/hook.go, spec §13), the JSON that Deck's command-help page reads:

    {"AllRepos": [...], "RepoPlugins": {"": [every plugin], "org": [...], "org/repo": [...]},
     "RepoExternalPlugins": {"": [every external plugin], ...},
     "PluginHelp": {name: PluginHelp}, "ExternalPluginHelp": {name: PluginHelp}}

- Each registered plugin's help provider gets the plugins config and the repos it is enabled for;
  a provider that fails is logged and left out of PluginHelp (its name stays in RepoPlugins[""]).
- External plugins are asked for their help with `POST <endpoint>/help` and a JSON list of
  {"Org", "Repo"}; all are asked at once and whatever answered within one second is used.
- Prow expands org keys to the org's repositories with GitHub's repository listing. Here an org
  key expands to the org's repositories the configuration names (plugins.yaml keys, external
  plugin keys, job configs), unless `org_repos` is given.
"""
from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

log = logging.getLogger("prow.plugin_help")

EXTERNAL_HELP_TIMEOUT = 1.0


def _orgs_in(plugin_config) -> set[str]:
    return {key for key in (*plugin_config.enabled, *plugin_config.external) if "/" not in key}


def config_repos(config) -> dict[str, set[str]]:
    """org → the org/repo names the configuration mentions for it."""
    names: set[str] = set()
    plugins = config.plugins
    names.update(k for k in (*plugins.enabled, *plugins.external) if "/" in k)
    jobs = getattr(config, "jobs", None)
    if jobs is not None:
        names.update(jobs.presubmits)
        names.update(jobs.postsubmits)
    out: dict[str, set[str]] = {}
    for name in names:
        org, _, repo = name.partition("/")
        if org and repo and "/" not in repo:
            out.setdefault(org, set()).add(name)
    return out


def _expand(key: str, org_to_repos: Mapping[str, set[str]]) -> list[str] | None:
    if "/" in key:
        return [key]
    repos = org_to_repos.get(key)
    return sorted(repos) if repos is not None else None


def _fetch_external_help(endpoint: str, enabled: list[dict], timeout: float) -> dict:
    import requests
    url = endpoint.rstrip("/") + "/help"
    resp = requests.post(url, data=json.dumps(enabled), headers={"Content-Type": "application/json"},
                         timeout=timeout)
    if not 200 <= resp.status_code <= 299:
        raise RuntimeError(f"post to {url} failed with status {resp.status_code}")
    help_ = resp.json()
    if not isinstance(help_, dict):
        raise ValueError(f"{url} did not answer a JSON object")
    return help_


def build_help(config, *, registry=None, org_repos: Callable[[str], Iterable[str]] | None = None,
               external_help: Callable[[str, list[dict], float], dict] = _fetch_external_help,
               external_timeout: float = EXTERNAL_HELP_TIMEOUT) -> dict:
    """The help JSON for a LoadedConfig."""
    if registry is None:
        from shared.plugins import load_plugins
        registry = load_plugins()
    plugins = config.plugins
    orgs = _orgs_in(plugins)
    if org_repos is not None:
        org_to_repos: dict[str, set[str]] = {}
        for org in sorted(orgs):
            try:
                org_to_repos[org] = set(org_repos(org))
            except Exception as exc:  # as Prow: the org is left out
                log.error("plugin-help: listing the repositories of %s failed: %s", org, exc)
    else:
        known = config_repos(config)
        org_to_repos = {org: known.get(org, set()) for org in orgs}

    # plugin name → the repos it is enabled for (org keys expanded; Prow ignores excluded_repos here)
    normal: dict[str, list[str]] = {}
    for key, entry in plugins.enabled.items():
        repos = _expand(key, org_to_repos) or []
        for name in entry.plugins:
            normal.setdefault(name, []).extend(repos)

    plugin_help: dict[str, Any] = {}
    for plugin in registry.plugins():
        try:
            plugin_help[plugin.name] = plugin.help(plugins, normal.get(plugin.name, [])).to_json()
        except Exception as exc:
            log.error("plugin-help: help of plugin %s failed: %s", plugin.name, exc)

    externals: dict[str, Any] = {}
    external_enabled: dict[str, list[dict]] = {}
    for key, entries in plugins.external.items():
        repos = _expand(key, org_to_repos)
        as_org_repos = ([{"Org": r.split("/", 1)[0], "Repo": r.split("/", 1)[1]} for r in repos]
                        if repos is not None else [{"Org": key.partition("/")[0], "Repo": key.partition("/")[2]}])
        for ext in entries:
            externals[ext.name] = ext
            external_enabled.setdefault(ext.name, []).extend(as_org_repos)
    external_help_json = _external_help(externals, external_enabled, external_help, external_timeout)

    repo_plugins: dict[str, list[str]] = {"": registry.names()}
    for key, entry in plugins.enabled.items():
        repo_plugins[key] = list(entry.plugins)
    repo_external: dict[str, list[str]] = {"": sorted(externals)}
    for key, entries in plugins.external.items():
        repo_external.setdefault(key, []).extend(ext.name for ext in entries)

    all_repos: set[str] = set()
    for key in (*plugins.enabled, *plugins.external):
        all_repos.update(_expand(key, org_to_repos) or [])
    return {"AllRepos": sorted(all_repos), "RepoPlugins": repo_plugins, "RepoExternalPlugins": repo_external,
            "PluginHelp": plugin_help, "ExternalPluginHelp": external_help_json}


def _external_help(externals: Mapping[str, Any], enabled: Mapping[str, list[dict]],
                   fetch: Callable[[str, list[dict], float], dict], timeout: float) -> dict:
    if not externals:
        return {}
    results: dict[str, dict] = {}
    lock = threading.Lock()

    def ask(name: str) -> None:
        ext = externals[name]
        try:
            help_ = fetch(ext.endpoint, enabled.get(name, []), timeout)
        except Exception as exc:
            log.error("plugin-help: getting help from external plugin %s failed: %s", name, exc)
            return
        help_["Events"] = list(ext.events) or None
        with lock:
            results[name] = help_

    pool = ThreadPoolExecutor(max_workers=min(len(externals), 16), thread_name_prefix="external-help")
    try:
        wait([pool.submit(ask, name) for name in externals], timeout=timeout)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    with lock:
        return dict(results)


@dataclass(frozen=True)
class HelpResponse:
    status: int
    body: str
    headers: dict


def handle_plugin_help(method: str, *, config: Callable[[], Any] | None = None, **options: Any) -> HelpResponse:
    """The `plugin_help` function's core: GET only, `Cache-Control: no-cache`."""
    if method.upper() != "GET":
        return HelpResponse(405, "405 Method not allowed\n", {"Cache-Control": "no-cache",
                                                              "Content-Type": "text/plain; charset=utf-8"})
    try:
        if config is None:
            from shared.config.source import get_config
            config = get_config
        body = json.dumps(build_help(config(), **options), separators=(",", ":"), sort_keys=True)
    except Exception as exc:
        log.exception("plugin-help: building help failed")
        return HelpResponse(500, f"500 Internal server error building plugin help: {exc}\n",
                            {"Cache-Control": "no-cache", "Content-Type": "text/plain; charset=utf-8"})
    return HelpResponse(200, body, {"Cache-Control": "no-cache", "Content-Type": "application/json"})
