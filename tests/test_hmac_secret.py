import pytest

from shared.hmac_secret import HmacSecretError, parse_hmac_secret

HIERARCHICAL = """
'*':
  - value: global-token
    created_at: 2020-10-02T15:00:00Z
org1:
  - value: new-org1
    created_at: 2020-10-02T15:00:00Z
  - value: old-org1
    created_at: 2018-10-02T15:00:00Z
org2/repo:
  - value: repo-token
    created_at: 2020-10-02T15:00:00Z
"""


def test_only_the_most_specific_configured_scope_is_tried():
    s = parse_hmac_secret(HIERARCHICAL)
    assert s.keys_for("org2/repo") == (b"repo-token",)          # exact repo key wins
    assert s.keys_for("org2/other") == (b"global-token",)        # no org2 key: falls back to *
    assert s.keys_for("org1/anything") == (b"new-org1", b"old-org1")  # both tokens valid (rotation)
    assert s.keys_for("org1") == (b"new-org1", b"old-org1")       # org-level event
    assert s.keys_for("") == (b"global-token",)


def test_no_fallback_to_wider_scope_when_specific_exists():
    s = parse_hmac_secret("org/repo:\n  - value: r\norg:\n  - value: o\n")
    assert s.keys_for("org/repo") == (b"r",)
    assert s.keys_for("org/other") == (b"o",)
    assert s.keys_for("else/x") == ()


@pytest.mark.parametrize("text,key", [
    ("plain-token\n", b"plain-token"),          # trailing newline of a secret file trimmed
    ("  tok:with:colons  ", b"tok:with:colons"),  # not a map of token lists: legacy single token
    ("a: b", b"a: b"),
    ("org:\n  - value: 5\n", b"org:\n  - value: 5"),  # non-string value: Prow's unmarshal fails -> legacy
])
def test_legacy_single_token(text, key):
    s = parse_hmac_secret(text)
    assert s.keys_for("any/repo") == (key,)
    assert s.keys_for("") == (key,)


def test_empty_tokens_are_never_valid():
    s = parse_hmac_secret("org:\n  - value: ''\n  - created_at: 2020-01-01T00:00:00Z\n")
    assert s.keys_for("org/repo") == ()


@pytest.mark.parametrize("text", [None, "", "  \n"])
def test_missing_secret_is_an_error(text):
    with pytest.raises(HmacSecretError):
        parse_hmac_secret(text)


def test_repr_never_shows_tokens():
    assert "plain" not in repr(parse_hmac_secret("plain-token"))
    assert "repo-token" not in repr(parse_hmac_secret(HIERARCHICAL))
