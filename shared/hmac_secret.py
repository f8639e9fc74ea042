"""The webhook secret (`PROW_HMAC_SECRET`) in both of Prow's formats.

- Hierarchical: a YAML map of scope (`*`, `org`, `org/repo`) to a list of `{value, created_at}`
  tokens. Only the most specific scope that is configured is tried: the exact `org/repo` key if
  present, else the `org` key, else `*`. Every token of that scope is valid (rotation).
- Legacy: anything that is not such a map is one token for every repository.

The whole text is trimmed of surrounding whitespace first, as Prow trims the secret file.
Empty tokens are never accepted (Prow would accept an HMAC made with an empty key).
"""
from __future__ import annotations

from dataclasses import dataclass


class HmacSecretError(Exception):
    """The secret is missing or empty."""


@dataclass(frozen=True)
class HmacSecret:
    scopes: dict | None          # scope -> tuple of keys (bytes); None for the legacy single token
    single: bytes | None = None

    def keys_for(self, scope: str) -> tuple[bytes, ...]:
        if self.scopes is None:
            return (self.single,) if self.single else ()
        org = scope.split("/", 1)[0]
        for key in (scope, org, "*"):
            if key in self.scopes:
                return self.scopes[key]
        return ()

    def __repr__(self) -> str:  # never show the secret
        if self.scopes is None:
            return "HmacSecret(<single token>)"
        return f"HmacSecret(scopes={sorted(self.scopes)})"


def parse_hmac_secret(text: str | bytes | None) -> HmacSecret:
    if text is None:
        raise HmacSecretError("PROW_HMAC_SECRET is not set")
    raw = text.encode() if isinstance(text, str) else bytes(text)
    raw = raw.strip()
    if not raw:
        raise HmacSecretError("PROW_HMAC_SECRET is empty")
    scopes = _hierarchical(raw)
    if scopes is None:
        return HmacSecret(scopes=None, single=raw)
    return HmacSecret(scopes=scopes)


def _hierarchical(raw: bytes) -> dict | None:
    """The scope map, or None when the text is not in the hierarchical format."""
    # Cheap pre-check: a bare token has no mapping colon; skip the YAML import for it.
    if b":" not in raw:
        return None
    import yaml
    try:
        doc = yaml.load(raw, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None
    if not isinstance(doc, dict):
        return None
    scopes: dict[str, tuple[bytes, ...]] = {}
    for scope, tokens in doc.items():
        if not isinstance(scope, str) or not isinstance(tokens, list):
            return None
        keys = []
        for token in tokens:
            if not isinstance(token, dict):
                return None
            value = token.get("value")
            if value is None:
                continue
            if not isinstance(value, str):
                return None
            if value:
                keys.append(value.encode())
        scopes[scope] = tuple(keys)
    return scopes
