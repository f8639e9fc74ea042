"""Prow configuration: config.yaml, job configs and plugins.yaml, loaded with file:line diagnostics.

    from shared.config import get_config
    config = get_config()                      # the app's current, validated config (cached)
    config.plugins.plugins_for("org", "repo")

`load_config()` reads and validates once (what `checkconfig` runs); `ConfigSource` keeps a config
current from local paths or blobs (what the functions use, through `get_config()`).

The names below are imported on first use, so `import shared.config.errors` (or the hook's cold
start) does not pay for the loader, the job model and the schema.
"""
from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ConfigError": "errors", "Diagnostic": "errors", "Diagnostics": "errors",
    "LoadedConfig": "loader", "ProwConfig": "loader", "load_config": "loader",
    "ExternalPlugin": "plugins", "PluginConfig": "plugins", "PluginSet": "plugins",
    "parse_plugin_config": "plugins",
    "ConfigSource": "source", "default_source": "source", "get_config": "source",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
