"""The app's plugins: one module per plugin in this package, each registering itself on import.

`load_plugins()` imports every module of the package once (framework modules register nothing), so a
new plugin is added by adding its module. See `registry` for how a plugin is written.
"""
from __future__ import annotations

import importlib
import pkgutil
import threading

_loaded = False
_lock = threading.Lock()


def load_plugins():
    """Import every plugin module; returns the registry."""
    global _loaded
    from shared.plugins.registry import REGISTRY
    with _lock:
        if not _loaded:
            for module in pkgutil.iter_modules(__path__):
                if not module.name.startswith("_"):
                    importlib.import_module(f"{__name__}.{module.name}")
            _loaded = True
    return REGISTRY


def plugin_names():
    """What checkconfig needs to judge the names in plugins.yaml (shared.config.plugins.PluginNames)."""
    from shared.config.plugins import PluginNames
    from shared.plugins.registry import PROW_PLUGIN_NAMES, RENAMED_PLUGIN_NAMES
    implemented = frozenset(load_plugins().names())
    return PluginNames(known=PROW_PLUGIN_NAMES | implemented, implemented=implemented,
                       renamed=dict(RENAMED_PLUGIN_NAMES))
