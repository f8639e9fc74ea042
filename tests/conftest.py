"""Shared fixtures: a real Azurite for the session, unique storage names per test."""
from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests import azurite as azurite_mod

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture(scope="session")
def azurite():
    instance = azurite_mod.start()
    yield instance
    instance.stop()


@pytest.fixture
def storage_env(azurite, monkeypatch):
    """PROW_STORAGE pointing at the session's Azurite."""
    monkeypatch.setenv("PROW_STORAGE", azurite.connection_string)
    return azurite.connection_string


@pytest.fixture
def unique_name():
    """A storage-safe unique name (lowercase letters and digits, starts with a letter)."""
    return lambda prefix="t": f"{prefix}{uuid.uuid4().hex[:16]}"


@pytest.fixture(scope="session")
def app_functions():
    """The registered functions of function_app, by name (get_functions() may run once per app)."""
    import function_app

    return {f.get_function_name(): f for f in function_app.app.get_functions()}


@pytest.fixture
def call_http(app_functions):
    """Call an HTTP function the way the host does: an azure.functions.HttpRequest in, a response out."""
    import azure.functions as func

    def call(name: str, method: str = "POST", headers: dict | None = None, body: bytes = b"",
             url: str = "http://localhost/api/hook"):
        req = func.HttpRequest(method=method, url=url, headers=headers or {}, params={},
                               route_params={}, body=body)
        return app_functions[name].get_user_function()(req)

    return call


@pytest.fixture
def webhook_queue(storage_env):
    """The app's `webhook-events` queue in Azurite, existing and empty."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.queue import QueueClient

    queue = QueueClient.from_connection_string(storage_env, "webhook-events")
    try:
        queue.create_queue()
    except ResourceExistsError:
        queue.clear_messages()
    return storage_env
