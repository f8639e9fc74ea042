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
