"""`python -m shared.cli checkconfig`: validate config.yaml, job configs and plugins.yaml.

Flags and warning names are Prow's (`cmd/checkconfig`): `--config-path` (required),
`--job-config-path`, `--plugin-config`, `--strict` (warnings fail too), `--warnings` (repeatable,
or comma-separated; replaces the default set unless `--include-default-warnings`),
`--exclude-warning`, `--expensive-checks`; plus `--output json`. Go-style spellings (`-strict`,
`--strict=true`) are accepted, as are Prow's GitHub and storage flags, which this check does not
need. Flags whose input this implementation cannot check yet (supplemental config dirs,
`.prow.yaml`) are refused rather than silently skipped.

Plugin names under `plugins:` that Prow does not know are errors (with file:line), as in Prow's
checkconfig; names of Prow plugins this app does not run yet are notices.

Warnings checked: unknown-fields and unknown-fields-all (at load), and here long-job-names,
non-decorated-jobs, validate-cluster-field (the agent rule), required-job-annotations,
periodic-default-clone-config, duplicate-job-refs, missing-trigger, validate-owners, validate-label,
validate-config-updater-acls, needs-ok-to-test, managed-webhooks, validate-urls. Enabled warnings not
checked yet (the tide ones, branch protection, the GitHub-backed ones) are listed in a notice, so a
passing run never hides a check that did not happen.

Exit status: 0 valid, 1 invalid (errors, or warnings with --strict; notices never count), 2 bad usage.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Sequence

from shared.config.errors import Diagnostic
from shared.config.loader import ALL_WARNINGS, CHECKED_WARNINGS, DEFAULT_WARNINGS, LoadedConfig, load_config
from shared.config.yamlnodes import YMap

# Prow flags that do not change what this check reports; accepted and ignored.
_IGNORED_VALUE_FLAGS = (
    "github-host", "github-endpoint", "github-graphql-endpoint", "github-token-path", "github-app-id",
    "github-app-private-key-path", "github-hourly-tokens", "github-allowed-burst", "github-throttle-org",
    "github-client.request-timeout", "github-client.max-retries", "github-client.max-404-retries",
    "github-client.backoff-timeout", "github-client.initial-delay", "gcs-credentials-file",
    "s3-credentials-file", "supplemental-prow-configs-filename", "supplemental-prow-configs-filename-suffix",
    "supplemental-plugin-configs-filename-suffix", "in-repo-config-cache-size", "cache-dir-base",
    "moonraker-address",
)
# Prow flags naming more config to check, which this implementation cannot read yet.
_UNSUPPORTED_FLAGS = {
    "supplemental-prow-config-dir": "supplemental prow config directories",
    "supplemental-plugin-config-dir": "supplemental plugin config directories",
    "prow-yaml-repo-name": "in-repo config (.prow.yaml)",
    "prow-yaml-path": "in-repo config (.prow.yaml)",
}
_BOOL_FLAGS = ("strict", "include-default-warnings", "expensive-checks")


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would exit; we return 2 from main
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m shared.cli checkconfig", add_help=True,
                description="Validate Prow config.yaml, job configs and plugins.yaml.")
    p.add_argument("--config-path", default="", help="path to config.yaml (required)")
    p.add_argument("--job-config-path", default="", help="job config file or directory")
    p.add_argument("--plugin-config", default="", help="path to plugins.yaml")
    p.add_argument("--strict", action="store_true", help="fail on warnings too")
    p.add_argument("--warnings", action="append", default=[], help="warning names to check (repeatable)")
    p.add_argument("--exclude-warning", action="append", default=[], help="warning names to skip (repeatable)")
    p.add_argument("--include-default-warnings", action="store_true",
                   help="check the default warnings in addition to --warnings")
    p.add_argument("--expensive-checks", action="store_true", help="also enable the expensive warnings")
    p.add_argument("--required-job-annotations", action="append", default=[],
                   help="annotations every job must have (repeatable)")
    p.add_argument("--output", choices=("text", "json"), default="text")
    for name in _IGNORED_VALUE_FLAGS:
        p.add_argument(f"--{name}", action="append", default=[], help=argparse.SUPPRESS)
    for name in _UNSUPPORTED_FLAGS:
        p.add_argument(f"--{name}", action="append", default=[], help=argparse.SUPPRESS)
    return p


def _normalise(argv: Sequence[str]) -> list[str]:
    """Go's flag package spellings → argparse: `-flag` → `--flag`, `--bool=true|false`."""
    out: list[str] = []
    for arg in argv:
        if arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
            arg = "-" + arg
        if arg.startswith("--") and "=" in arg:
            name, _, value = arg[2:].partition("=")
            if name in _BOOL_FLAGS:
                lowered = value.lower()
                if lowered in ("true", "t", "1"):
                    out.append(f"--{name}")
                elif lowered not in ("false", "f", "0"):
                    raise UsageError(f"invalid boolean value {value!r} for --{name}")
                continue
        out.append(arg)
    return out


def _names(values: Sequence[str]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


def enabled_warnings(requested: Sequence[str], excluded: Sequence[str], *, include_defaults: bool,
                     expensive: bool) -> list[str]:
    """The warning set as Prow computes it: the default set (all warnings with --expensive-checks)
    when none is requested or --include-default-warnings, plus the requested, minus excluded."""
    for name in requested:
        if name not in ALL_WARNINGS:
            raise UsageError(f"no such warning {name!r}; valid warnings: {', '.join(ALL_WARNINGS)}")
    chosen = list(requested)
    if not requested or include_defaults:
        chosen += ALL_WARNINGS if expensive else DEFAULT_WARNINGS
    skip = set(excluded)
    return [name for name in dict.fromkeys(chosen) if name not in skip]


# -- checkconfig's own warnings (Prow runs these in cmd/checkconfig only, never at load time) -----

KUBERNETES_LABEL_VALUE_MAX = 63
OWNERS_PLUGINS = ("approve", "blunderbuss", "rifle", "owners-label")


def _warn(found: list[Diagnostic], kind: str, file: str, line: int | None, message: str) -> None:
    found.append(Diagnostic(file, line, message, "warning", kind))


def _job_warnings(loaded: LoadedConfig, enabled: set[str], required_annotations: Sequence[str],
                  found: list[Diagnostic]) -> None:
    jobs = loaded.jobs
    for job in jobs.all_jobs():
        what = f"{job.job_type} {job.name!r}"
        kubernetes = job.agent == "kubernetes"
        if "long-job-names" in enabled and kubernetes and len(job.name) > KUBERNETES_LABEL_VALUE_MAX:
            _warn(found, "long-job-names", job.file, job.line,
                  f"name of {what} is {len(job.name)} characters long; Kubernetes label values (which "
                  f"carry job names) allow at most {KUBERNETES_LABEL_VALUE_MAX}")
        if "non-decorated-jobs" in enabled and kubernetes and not job.decorate:
            _warn(found, "non-decorated-jobs", job.file, job.line,
                  f"{what} uses the kubernetes agent but not the pod utilities (decorate: true)")
        if "validate-cluster-field" in enabled and job.agent == "jenkins" and job.cluster not in ("", "default"):
            _warn(found, "validate-cluster-field", job.file, job.raw.line_of("cluster"),
                  f"{what}: cannot set cluster field if agent is jenkins")
        if "required-job-annotations" in enabled and required_annotations:
            missing = [a for a in required_annotations if a not in job.annotations]
            if missing:
                _warn(found, "required-job-annotations", job.file, job.line,
                      f"{what} is missing required annotations: {', '.join(missing)}")
    if "periodic-default-clone-config" in enabled:
        for job in jobs.periodics:
            if job.clone_depth or job.clone_uri or job.path_alias:
                _warn(found, "periodic-default-clone-config", job.file, job.line,
                      f"periodic {job.name!r}: top-level clone_depth, clone_uri and path_alias have no "
                      f"effect on periodics (they may clone 0, 1 or more repos); set them in extra_refs")
    if "duplicate-job-refs" in enabled:
        for repo, presubmits in jobs.presubmits.items():
            for job in presubmits:
                refs = [repo] + [f"{r.get('org')}/{r.get('repo')}" for r in job.extra_refs if isinstance(r, dict)]
                dupes = sorted({ref for ref in refs if refs.count(ref) > 1})
                if dupes:
                    _warn(found, "duplicate-job-refs", job.file, job.line,
                          f"presubmit {job.name!r} for {repo}: these repos appear more than once in the "
                          f"main repo and extra_refs: {', '.join(dupes)}")


def _plugin_warnings(loaded: LoadedConfig, enabled: set[str], found: list[Diagnostic]) -> None:
    plugins = loaded.plugins
    file = plugins.file
    if "missing-trigger" in enabled:
        for kind in ("presubmits", "postsubmits"):
            for repo, jobs in getattr(loaded.jobs, kind).items():
                org, _, name = repo.partition("/")
                if jobs and "trigger" not in plugins.plugins_for(org, name):
                    _warn(found, "missing-trigger", jobs[0].file, jobs[0].line,
                          f"{repo} has {kind} but the trigger plugin is not enabled for it in {file}")
    if "validate-owners" in enabled:
        for key, entry in plugins.enabled.items():
            owners = [name for name in OWNERS_PLUGINS if name in entry.plugins]
            if not owners:
                continue
            org, _, repo = key.partition("/")
            verified = ("verify-owners" in entry.plugins if not repo
                        else "verify-owners" in plugins.plugins_for(org, repo))
            if not verified:
                _warn(found, "validate-owners", file, entry.line_of(owners[0]),
                      f"{key} enables {', '.join(owners)}, which use OWNERS files, but not verify-owners, "
                      f"which checks that OWNERS files are valid")
    raw = plugins.raw
    if raw is None:
        return
    label = raw.get("label")
    if "validate-label" in enabled and isinstance(label, YMap):
        additional = label.get("additional_labels") if isinstance(label.get("additional_labels"), list) else []
        restricted = label.get("restricted_labels")
        if isinstance(restricted, YMap):
            for org_repo, entries in restricted.items():
                for index, entry in enumerate(entries if isinstance(entries, list) else []):
                    if not isinstance(entry, YMap):
                        continue
                    name = entry.get("label")
                    line = entries.line_of(index)
                    if not name:
                        _warn(found, "validate-label", file, line,
                              f"label.restricted_labels of {org_repo} has an entry with an empty label name")
                    elif name in additional:
                        _warn(found, "validate-label", file, line,
                              f"label {name!r} is restricted for {org_repo} but is also in label.additional_labels")
    updater = raw.get("config_updater")
    maps = updater.get("maps") if isinstance(updater, YMap) else None
    if "validate-config-updater-acls" in enabled and isinstance(maps, YMap):
        for pattern, spec in maps.items():
            if not isinstance(spec, YMap):
                continue
            for field in ("allowed_repos", "denied_repos"):
                entries = spec.get(field)
                for index, entry in enumerate(entries if isinstance(entries, list) else []):
                    problem = _repo_name_problem(entry)
                    if problem:
                        _warn(found, "validate-config-updater-acls", file, entries.line_of(index),
                              f"config_updater.maps[{pattern!r}].{field}: {problem}")


def _repo_name_problem(entry: object) -> str | None:
    if not isinstance(entry, str) or not entry:
        return "org/repo cannot be empty"
    parts = entry.split("/")
    if len(parts) > 2:
        return "org/repo contains too many slashes '/'"
    if not parts[0]:
        return "you cannot set a repo without an org"
    return None


def _prow_warnings(loaded: LoadedConfig, enabled: set[str], found: list[Diagnostic]) -> None:
    raw, file = loaded.prow.raw, loaded.prow.file
    tide = raw.get("tide")
    queries = tide.get("queries") if isinstance(tide, YMap) else None
    if "needs-ok-to-test" in enabled and isinstance(queries, list):
        for index, query in enumerate(queries):
            if not isinstance(query, YMap):
                continue
            labels, missing = query.get("labels") or [], query.get("missingLabels") or []
            if "lgtm" in labels and "needs-ok-to-test" in missing:
                _warn(found, "needs-ok-to-test", file, queries.line_of(index),
                      f"tide query #{index} requires the 'lgtm' label and forbids 'needs-ok-to-test', which is "
                      f"not recommended (see https://docs.prow.k8s.io/docs/components/core/tide/maintainers/#best-practices)")
    webhooks = raw.get("managed_webhooks")
    org_repos = webhooks.get("org_repo_config") if isinstance(webhooks, YMap) else None
    if "managed-webhooks" in enabled and isinstance(org_repos, YMap):
        orgs = {str(key) for key in org_repos if "/" not in str(key)}
        for key in org_repos:
            if "/" in str(key) and str(key).split("/", 1)[0] in orgs:
                _warn(found, "managed-webhooks", file, org_repos.line_of(key),
                      f"org-level and repo-level webhooks are both configured for {key}; GitHub would "
                      f"deliver every event twice")
    link = raw.get("status_error_link")
    if "validate-urls" in enabled and loaded.plugins.raw is not None and isinstance(link, str):
        if any(ord(c) < 0x20 or ord(c) == 0x7f for c in link) or _bad_escape(link):
            _warn(found, "validate-urls", file, raw.line_of("status_error_link"),
                  f"status_error_link is not a valid URL: {link!r}")


def _bad_escape(text: str) -> bool:
    """A `%` not followed by two hex digits, which Go's url.Parse rejects."""
    return any(not re.fullmatch(r"[0-9A-Fa-f]{2}", text[i + 1:i + 3]) for i, c in enumerate(text) if c == "%")


EXTRA_WARNINGS = frozenset({
    "long-job-names", "non-decorated-jobs", "validate-cluster-field", "required-job-annotations",
    "periodic-default-clone-config", "duplicate-job-refs", "missing-trigger", "validate-owners",
    "validate-label", "validate-config-updater-acls", "needs-ok-to-test", "managed-webhooks", "validate-urls",
    # Supplemental config directories are refused (see _UNSUPPORTED_FLAGS): nothing to check.
    "validate-supplemental-prow-config-hierarchy",
})
# Warnings that need the plugin config, as in Prow (which skips them without --plugin-config).
_NEED_PLUGINS = ("missing-trigger", "validate-owners", "validate-label", "validate-config-updater-acls",
                 "validate-urls")


def extra_warnings(loaded: LoadedConfig, enabled: Sequence[str], *,
                   required_annotations: Sequence[str] = ()) -> list[Diagnostic]:
    """checkconfig's warnings that look across the loaded config (only the enabled ones)."""
    wanted = set(enabled) & EXTRA_WARNINGS
    if loaded.plugins.raw is None:
        wanted -= set(_NEED_PLUGINS)
    found: list[Diagnostic] = []
    _job_warnings(loaded, wanted, required_annotations, found)
    _plugin_warnings(loaded, wanted, found)
    _prow_warnings(loaded, wanted, found)
    return found


def _plugin_name_diagnostics(loaded: LoadedConfig) -> list[Diagnostic]:
    """Unknown plugin names are errors here only: at run time they are ignored, as Prow's hook does."""
    from shared.config.errors import Diagnostics
    from shared.config.plugins import check_plugin_names
    from shared.plugins import plugin_names

    diags = Diagnostics()
    check_plugin_names(loaded.plugins, plugin_names(), diags)
    return diags.items


def template_diagnostics(loaded: LoadedConfig) -> list[Diagnostic]:
    """Go templates in `plank` (job_url_template, report_template(s)) outside the subset the app
    evaluates (shared/gotemplate.py) are errors here, not a surprise when a job reports."""
    from shared.config.errors import Diagnostics
    from shared.gotemplate import TemplateError, parse

    diags = Diagnostics()
    plank = loaded.prow.raw.get("plank")
    if not isinstance(plank, dict):
        return []
    found = [(plank, "job_url_template", "plank.job_url_template"),
             (plank, "report_template", "plank.report_template")]
    templates = plank.get("report_templates")
    if isinstance(templates, dict):
        found += [(templates, key, f"plank.report_templates[{key!r}]") for key in templates]
    for mapping, key, where in found:
        text = mapping.get(key)
        if not isinstance(text, str):
            continue
        try:
            parse(text)
        except TemplateError as exc:
            line = mapping.line_of(key) if hasattr(mapping, "line_of") else None
            diags.error(loaded.prow.file, line, f"{where}: {exc} (supported: field access, if/else if/else, "
                        "with, eq, ne, index, and, or, not)")
    return diags.items


def check_loaded(loaded: LoadedConfig, warnings: Sequence[str], *,
                 required_annotations: Sequence[str] = ()) -> LoadedConfig:
    """What checkconfig adds to a load (in place): unknown plugin names as errors and, on a config
    without errors, its cross-config warnings. `warnings` are the enabled warning names."""
    if loaded.plugins.raw is not None:
        loaded.diagnostics.extend(_plugin_name_diagnostics(loaded))
    loaded.diagnostics.extend(template_diagnostics(loaded))
    if not loaded.errors:  # on a broken config these would only add noise
        loaded.diagnostics.extend(extra_warnings(loaded, warnings, required_annotations=required_annotations))
    return loaded


def _sort_key(d: Diagnostic) -> tuple:
    return d.file, d.line or 0, d.message


def _label(d: Diagnostic) -> str:
    return f"warning[{d.kind}]" if d.severity == "warning" and d.kind else d.severity


def _counts(loaded: LoadedConfig) -> dict:
    jobs = loaded.jobs
    return {
        "presubmits": len(jobs.all_presubmits()),
        "postsubmits": len(jobs.all_postsubmits()),
        "periodics": len(jobs.periodics),
        "agents": dict(sorted(loaded.agent_counts().items())),
    }


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(_normalise(argv))
        if not args.config_path:
            raise UsageError("--config-path is mandatory")
        for flag, what in _UNSUPPORTED_FLAGS.items():
            if getattr(args, flag.replace("-", "_")):
                raise UsageError(f"--{flag}: checking {what} is not supported yet")
        warnings = enabled_warnings(_names(args.warnings), _names(args.exclude_warning),
                                    include_defaults=args.include_default_warnings,
                                    expensive=args.expensive_checks)
    except UsageError as exc:
        print(f"checkconfig: {exc}", file=sys.stderr)
        return 2

    started = time.monotonic()
    loaded = load_config(args.config_path, args.job_config_path or None, args.plugin_config or None,
                         warnings=warnings)
    elapsed = time.monotonic() - started
    check_loaded(loaded, warnings, required_annotations=_names(args.required_job_annotations))
    unchecked = [name for name in warnings if name not in CHECKED_WARNINGS | EXTRA_WARNINGS]
    notices = sorted(loaded.notices, key=_sort_key)
    if unchecked:
        notices.append(Diagnostic("checkconfig", None,
                                  f"enabled warnings this implementation does not check yet: "
                                  f"{', '.join(unchecked)}", "notice"))
    errors = sorted(loaded.errors, key=_sort_key)
    warns = sorted(loaded.warnings, key=_sort_key)
    valid = not errors and not (args.strict and warns)
    counts = _counts(loaded)

    if args.output == "json":
        print(json.dumps({"valid": valid, **counts,
                          "errors": [d.as_dict() for d in errors],
                          "warnings": [d.as_dict() for d in warns],
                          "notices": [d.as_dict() for d in notices]}, indent=2))
    else:
        for d in (*errors, *warns, *notices):
            print(f"{d.location()}: {_label(d)}: {d.message}")
        agents = ", ".join(f"{agent} {n}" for agent, n in counts["agents"].items()) or "none"
        print(f"{len(errors)} error(s), {len(warns)} warning(s), {len(notices)} notice(s); "
              f"{counts['presubmits']} presubmits, {counts['postsubmits']} postsubmits, "
              f"{counts['periodics']} periodics (agents: {agents}); {len(loaded.files)} file(s) in {elapsed:.2f}s")
        if valid:
            print("checkconfig: valid")
        elif errors:
            print("checkconfig: INVALID")
        else:
            print("checkconfig: INVALID (--strict is set and there were warnings)")
    return 0 if valid else 1
