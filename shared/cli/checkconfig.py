"""`python -m shared.cli checkconfig`: validate config.yaml, job configs and plugins.yaml.

Flags and warning names are Prow's (`cmd/checkconfig`): `--config-path` (required),
`--job-config-path`, `--plugin-config`, `--strict` (warnings fail too), `--warnings` (repeatable,
or comma-separated; replaces the default set unless `--include-default-warnings`),
`--exclude-warning`, `--expensive-checks`; plus `--output json`. Go-style spellings (`-strict`,
`--strict=true`) are accepted, as are Prow's GitHub and storage flags, which this check does not
need. Flags whose input this implementation cannot check yet (supplemental config dirs,
`.prow.yaml`) are refused rather than silently skipped.

Exit status: 0 valid, 1 invalid (errors, or warnings with --strict; notices never count), 2 bad usage.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Sequence

from shared.config.errors import Diagnostic
from shared.config.loader import (ALL_WARNINGS, CHECKED_WARNINGS, DEFAULT_WARNINGS, LoadedConfig,
                                  agent_counts, load_config)

# Prow flags that do not change what this check reports; accepted and ignored.
_IGNORED_VALUE_FLAGS = (
    "github-host", "github-endpoint", "github-graphql-endpoint", "github-token-path", "github-app-id",
    "github-app-private-key-path", "github-hourly-tokens", "github-allowed-burst", "github-throttle-org",
    "github-client.request-timeout", "github-client.max-retries", "github-client.max-404-retries",
    "github-client.backoff-timeout", "github-client.initial-delay", "gcs-credentials-file",
    "s3-credentials-file", "supplemental-prow-configs-filename", "supplemental-prow-configs-filename-suffix",
    "supplemental-plugin-configs-filename-suffix", "in-repo-config-cache-size", "cache-dir-base",
    "moonraker-address", "required-job-annotations",
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


def _sort_key(d: Diagnostic) -> tuple:
    return d.file, d.line or 0, d.message


def _label(d: Diagnostic) -> str:
    return f"warning[{d.kind}]" if d.severity == "warning" and d.kind else d.severity


def _counts(loaded: LoadedConfig) -> dict:
    jobs = loaded.jobs
    return {
        "presubmits": sum(len(v) for v in (getattr(jobs, "presubmits", {}) or {}).values()),
        "postsubmits": sum(len(v) for v in (getattr(jobs, "postsubmits", {}) or {}).values()),
        "periodics": len(getattr(jobs, "periodics", []) or []),
        "agents": dict(sorted(agent_counts(loaded).items())),
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
    unchecked = [name for name in warnings if name not in CHECKED_WARNINGS]
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
