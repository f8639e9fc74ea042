"""The one GitHub client of the app: token or GitHub App auth, ETag cache, rate limits, typed errors.

Importing this package is cheap: PyGithub and the storage SDKs are imported on first use.
"""
from shared.github.client import (DEFAULT_API_URL, EventSession, GitHubClient, GitHubConfigError, RequestRecord,
                                  default_client)
from shared.github.errors import (ClientError, Conflict, Forbidden, GitHubError, NotFound, NotMergeable,
                                  RateLimited, TransientError, Unauthorized, ValidationFailed)
from shared.github.etag_cache import CachedResponse, ETagCache, MemoryETagCache, StorageETagCache

__all__ = [
    "DEFAULT_API_URL", "EventSession", "GitHubClient", "GitHubConfigError", "RequestRecord", "default_client",
    "ClientError", "Conflict", "Forbidden", "GitHubError", "NotFound", "NotMergeable", "RateLimited",
    "TransientError", "Unauthorized", "ValidationFailed",
    "CachedResponse", "ETagCache", "MemoryETagCache", "StorageETagCache",
]
