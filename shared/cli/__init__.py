"""`python -m shared.cli <command>`: Prow's tools under Prow's names and flags.

Each command lives in its own module with a `main(argv) -> int`, imported only when chosen so
one command never pays for another's imports.
"""
from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "checkconfig": ("shared.cli.checkconfig", "validate config.yaml, job configs and plugins.yaml"),
    "phony": ("shared.cli.phony", "send a signed webhook delivery to a hook endpoint"),
    "init-storage": ("shared.cli.init_storage", "create the queues, containers and tables the app uses"),
    "mkpj": ("shared.cli.mkpj", "make a ProwJob from the config: print it, or --trigger-job to run it"),
    "publish-dashboard": ("shared.cli.publish_dashboard", "upload the dashboard site to $web"),
}


def usage() -> str:
    lines = ["usage: python -m shared.cli <command> [flags]", "", "commands:"]
    lines += [f"  {name:<14} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    return int(module.main(rest) or 0)
