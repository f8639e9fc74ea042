"""Status descriptions as Prow writes and reads them (pkg/config/config.go).

Prow records the base SHA a context was decided against at the end of its description,
` BaseSHA:<40 hex>`, left-padded with U+2001 so that it sits at the same place in GitHub's UI; Tide
reads it back to keep a result valid while the base branch has not moved. `[prow:skip-retest]` in a
description tells Tide to keep the context passing on this head even when the base moves
(`/override-sticky`). Lengths are counted in UTF-8 bytes, as Go's `len` counts them.
"""
from __future__ import annotations

BASE_SHA_DELIMITER = " BaseSHA:"
DEPRECATED_BASE_SHA_DELIMITER = " Basesha:"
SKIP_RETEST_SENTINEL = "[prow:skip-retest]"
MAX_DESCRIPTION = 140   # GitHub's limit for a status description
_PAD = "\u2001"         # GitHub collapses ordinary spaces in its UI, not this one
_ELIDE = " ... "


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def _truncate(text: str, limit: int) -> str:
    """"really long messages" → "really ... messages" (byte counts, as Prow's truncate)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    half = (limit - len(_ELIDE)) // 2
    return (data[:half].decode("utf-8", "ignore") + _ELIDE + data[len(data) - half:].decode("utf-8", "ignore"))


def description_with_base_sha(human_readable: str, base_sha: str) -> str:
    """Prow's ContextDescriptionWithBaseSha."""
    suffix = ""
    if base_sha:
        suffix = BASE_SHA_DELIMITER + base_sha
        padded = 0
        # The bound is re-evaluated as the suffix grows, exactly as Prow's loop does.
        while padded < MAX_DESCRIPTION - _size(human_readable + suffix):
            suffix = _PAD + suffix
            padded += 1
    return _truncate(human_readable, MAX_DESCRIPTION - _size(suffix)) + suffix


def base_sha_from_description(description: str) -> str:
    """Prow's BaseSHAFromContextDescription: the recorded base SHA, or ""."""
    for delimiter in (BASE_SHA_DELIMITER, DEPRECATED_BASE_SHA_DELIMITER):
        parts = description.split(delimiter)
        if len(parts) == 2 and len(parts[1]) == 40:
            return parts[1]
    return ""


def is_skip_retest(description: str) -> bool:
    return SKIP_RETEST_SENTINEL in description
