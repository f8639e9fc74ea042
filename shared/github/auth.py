"""Who the client is towards GitHub: a bot token, or a GitHub App and its installations.

An `Identity` is what one request needs: the `Authorization` header and the cache `scope` (the key under
which ETag entries and per-process caches are kept, so that one installation never sees another's data).

App mode signs its JWT with PyGithub's `Auth.AppAuth` (imported on first use). Installation tokens are
minted by the client through its own request path (so the mint is counted, typed and retried like any
other request) and kept here, per process, until `REFRESH_MARGIN` before they expire. PyGithub's own
`AppInstallationAuth` refreshes only 20 s before expiry, a module constant, and mints through a
`GithubIntegration` whose requests the client could neither count nor map to typed errors.
"""
from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

REFRESH_MARGIN = timedelta(minutes=5)


@dataclass(frozen=True)
class Identity:
    scope: str
    authorization: str
    installation_id: int | None = None

    def __repr__(self) -> str:  # never print a credential
        return f"Identity(scope={self.scope!r})"


class TokenAuth:
    """A personal or bot token (GITHUB_TOKEN)."""

    is_app = False

    def __init__(self, token: str):
        token = token.strip()
        if not token:
            raise ValueError("empty GitHub token")
        self._identity = Identity(f"token:{hashlib.sha256(token.encode()).hexdigest()[:24]}", f"token {token}")

    def identity(self) -> Identity:
        return self._identity


Mint = Callable[[Identity, int], tuple[str, datetime]]  # (app identity, installation id) -> (token, expires_at)


class AppAuth:
    """A GitHub App (GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY): JWTs for /app endpoints, installation tokens."""

    is_app = True

    def __init__(self, app_id: int | str, private_key: str, *, refresh_margin: timedelta = REFRESH_MARGIN):
        self.app_id = str(app_id).strip()
        if not self.app_id or not private_key.strip():
            raise ValueError("a GitHub App needs an app id and a private key")
        self._private_key = private_key
        self.refresh_margin = refresh_margin
        self._signer = None
        self._tokens: dict[int, tuple[str, datetime]] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()

    @property
    def scope(self) -> str:
        return f"app:{self.app_id}"

    def app_identity(self) -> Identity:
        """The App itself (a fresh JWT, valid 5 minutes with PyGithub's defaults)."""
        if self._signer is None:
            from github import Auth
            self._signer = Auth.AppAuth(self.app_id, self._private_key)
        return Identity(self.scope, f"Bearer {self._signer.create_jwt()}")

    def installation_identity(self, installation_id: int, mint: Mint) -> Identity:
        """An installation's identity, minting a token with `mint` when none is cached or it expires soon."""
        installation_id = int(installation_id)
        token = self._fresh(installation_id)
        if token is None:
            with self._lock:
                lock = self._locks.setdefault(installation_id, threading.Lock())
            with lock:  # one mint per installation at a time; the others wait and reuse it
                token = self._fresh(installation_id)
                if token is None:
                    token, expires_at = mint(self.app_identity(), installation_id)
                    self._tokens[installation_id] = (token, expires_at)
        return Identity(f"{self.scope}:installation:{installation_id}", f"token {token}", installation_id)

    def forget(self, installation_id: int) -> None:
        """Drop a cached token (GitHub said 401: revoked or expired early)."""
        self._tokens.pop(int(installation_id), None)

    def _fresh(self, installation_id: int) -> str | None:
        cached = self._tokens.get(installation_id)
        if cached and cached[1] - self.refresh_margin > datetime.now(timezone.utc):
            return cached[0]
        return None
