"""Diagnostics for configuration files: every message carries its file and line.

Loading collects diagnostics instead of stopping at the first problem, so a user sees every
mistake in one run, the way Prow's checkconfig reports them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

Severity = Literal["error", "warning", "notice"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    file: str
    line: int | None
    message: str
    severity: Severity = "error"
    # For warnings: the checkconfig warning name (e.g. "unknown-fields") that --warnings and
    # --exclude-warning select on. Empty for errors and notices.
    kind: str = ""

    def location(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.location()}: {self.message}"

    def as_dict(self) -> dict:
        return {"file": self.file, "line": self.line, "message": self.message,
                "severity": self.severity, "kind": self.kind}


class ConfigError(Exception):
    """A configuration that failed validation; `diagnostics` holds every error found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]):
        self.diagnostics = sorted(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics) or "invalid configuration")


@dataclass
class Diagnostics:
    """Accumulates diagnostics while a configuration is loaded."""

    items: list[Diagnostic] = field(default_factory=list)

    def error(self, file: str, line: int | None, message: str) -> None:
        self.items.append(Diagnostic(file, line, message, "error"))

    def warning(self, file: str, line: int | None, message: str, kind: str) -> None:
        self.items.append(Diagnostic(file, line, message, "warning", kind))

    def notice(self, file: str, line: int | None, message: str) -> None:
        self.items.append(Diagnostic(file, line, message, "notice"))

    def extend(self, other: Iterable[Diagnostic]) -> None:
        self.items.extend(other)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "warning"]

    @property
    def notices(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "notice"]
