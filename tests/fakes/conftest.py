"""Fixtures of the fakes. Other test folders can import them the same way (or list them in pytest_plugins)."""
from tests.fakes.github import fake_github  # noqa: F401
from tests.fakes.kube import fake_kube  # noqa: F401
