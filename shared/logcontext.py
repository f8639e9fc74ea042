"""Structured log fields: every line logged while a delivery or a job is handled says which one.

    with log_fields(delivery="72d3…", event="issue_comment", repo="org/repo", pr=12):
        log.info("dispatch: done")        # -> "dispatch: done [delivery=72d3… event=issue_comment repo=org/repo pr=12]"

The fields go two ways, because what reaches Application Insights depends on how the worker exports:
- appended to the message as ` [key=value …]`, the one part the Functions host always forwards. KQL reads it
  with `extract(@"delivery=(\\S+)", 1, message)` (the README's runbook);
- as attributes `prow_<key>` on the record, which the OpenTelemetry exporter turns into custom dimensions.

The fields live in a context variable, so every logger in the code path (ledger, GitHub client, plugins,
config) carries them with no change to its calls, and concurrent invocations on other threads keep their
own. Field names follow Prow's log fields (`pr` is the issue or pull request number, as in Prow).
Values are identifiers chosen by GitHub or by us, never secrets; `log_fields` drops empty ones.
"""
from __future__ import annotations

import contextvars
import logging
import threading
from contextlib import contextmanager
from typing import Any, Iterator

_fields: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar("prow_log_fields", default=())
_install_lock = threading.Lock()
_installed = False


def current_fields() -> dict[str, str]:
    return dict(_fields.get())


@contextmanager
def log_fields(**fields: Any) -> Iterator[None]:
    """Add fields to every log record created inside the block (nested blocks add to the outer ones)."""
    merged = dict(_fields.get())
    merged.update({k: str(v) for k, v in fields.items() if v is not None and v != ""})
    token = _fields.set(tuple(merged.items()))
    try:
        yield
    finally:
        _fields.reset(token)


def delivery_fields(delivery_id: str, event: str, repo: str, number: int | None) -> dict[str, Any]:
    return {"delivery": delivery_id, "event": event, "repo": repo, "pr": number}


def job_fields(job: Any) -> dict[str, Any]:
    """Fields of a ProwJob: its id (the record and pod name), job name, repository and pull request."""
    pulls = job.pull_numbers
    return {"job": job.name, "job_name": job.job, "repo": job.repo, "pr": pulls[0] if pulls else None}


def _suffix(fields: tuple[tuple[str, str], ...]) -> str:
    return " [" + " ".join(f"{k}={v}" for k, v in fields) + "]"


def install() -> None:
    """Wrap the process's log record factory once (idempotent)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            fields = _fields.get()
            if fields:
                for key, value in fields:
                    setattr(record, f"prow_{key}", value)
                if isinstance(record.msg, str):
                    suffix = _suffix(fields)
                    # with args the message is %-formatted later, so a literal % must be doubled
                    record.msg += suffix.replace("%", "%%") if record.args else suffix
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


install()
