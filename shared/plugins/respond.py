"""Prow's standard bot replies (`pkg/plugins/respond.go`, spec §2.3).

A reply quotes the triggering text line by line with `>`, so a command in it is never at the start
of a line and cannot trigger a plugin again.
"""
from __future__ import annotations

ABOUT_THIS_BOT_WITHOUT_COMMANDS = (
    "Instructions for interacting with me using PR comments are available "
    "[here](https://git.k8s.io/community/contributors/guide/pull-requests.md).  If you have questions or "
    "suggestions related to my behavior, please file an issue against the "
    "[kubernetes-sigs/prow](https://github.com/kubernetes-sigs/prow/issues/new?title=Prow%20issue:) repository.")
ABOUT_THIS_BOT_COMMANDS = "I understand the commands that are listed [here](https://go.k8s.io/bot-commands)."
ABOUT_THIS_BOT = ABOUT_THIS_BOT_WITHOUT_COMMANDS + " " + ABOUT_THIS_BOT_COMMANDS


def format_response(to: str, message: str, reason: str) -> str:
    """`@to: message` with `reason` and the about-the-bot text folded in a <details> block."""
    return f"@{to}: {message}\n\n<details>\n\n{reason}\n\n{ABOUT_THIS_BOT_WITHOUT_COMMANDS}\n</details>"


def format_simple_response(message: str) -> str:
    """A reply that needs no explanation beyond the about-the-bot text."""
    return f"{message}\n\n<details>\n\n{ABOUT_THIS_BOT_WITHOUT_COMMANDS}\n</details>"


def format_response_raw(body: str, body_url: str, login: str, reply: str) -> str:
    """A reply to `login` about the text `body` found at `body_url` (quoted in the details)."""
    quoted = "\n".join(">" + line for line in body.split("\n"))
    return format_response(login, reply, f"In response to [this]({body_url}):\n\n{quoted}\n")
