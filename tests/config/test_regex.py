"""Go RE2 patterns read as Prow reads them: each case is one where Python's `re` would differ."""
import re
import warnings

import pytest

from shared.config.regex import RE2Error, compile_re2, translate_re2


def go_search(pattern: str, text: str, flags: int = 0) -> bool:
    return bool(compile_re2(pattern, flags).search(text))


def python_search(pattern: str, text: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bool(re.search(pattern, text))


@pytest.mark.parametrize("pattern, text, go", [
    # $ without (?m) is the end of the text, not "before a trailing newline".
    (r"^main$", "main\n", False),
    (r"main$", "main\n", False),
    # \d, \w are ASCII in Go.
    (r"^\d+$", "١٢٣", False),
    (r"^\w+$", "héllo", False),
    # Go's \s has no \v (and no Unicode spaces).
    (r"a\sb", "a\vb", False),
    (r"a\sb", "a\u00a0b", False),
    # \b uses ASCII word characters: "é" is not one, so there is a boundary before "foo".
    (r"\bfoo", "éfoo", True),
])
def test_go_reading_differs_from_python(pattern, text, go):
    assert python_search(pattern, text) != go
    assert go_search(pattern, text) is go


def test_posix_classes_are_converted():
    assert go_search(r"^[[:alpha:]]+$", "abcXYZ")
    assert not python_search(r"^[[:alpha:]]+$", "abcXYZ")     # Python reads a different class
    assert go_search(r"^[[:^digit:]]+$", "abc") and not go_search(r"^[[:^digit:]]+$", "a1")
    assert go_search(r"[[:space:]]", "\v")                   # POSIX space has \v, Perl \s not
    assert not go_search(r"\s", "\v")


@pytest.mark.parametrize("pattern, text, go", [
    (r"a(?i)b|c", "C", True),          # flags persist across | to the end of the group
    (r"a(?i)b|c", "aB", True),
    (r"a(?i)b|c", "A", False),
    (r"(?i)a(?-i)b", "AB", False),
    (r"(?i)a(?-i)b", "Ab", True),
    (r"x(?s).y", "x\ny", True),
    (r"x(?s).y", "xy", False),
    (r"end\z", "end", True),
    (r"end\z", "end\n", False),
    (r"\x{41}\x42\101", "ABA", True),
    (r"\Q.*+\E", "a.*+b", True),
    (r"\Q.*+\E", "aaa", False),
    (r"(?<year>\d{4})", "in 2024", True),
])
def test_re2_syntax_python_rejects(pattern, text, go):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(re.error):
            re.compile(pattern)
    assert go_search(pattern, text) is go


def test_ungreedy_flag_swaps_greediness():
    assert compile_re2(r"(?U)a+").search("aaa").group(0) == "a"
    assert compile_re2(r"(?U)a+?").search("aaa").group(0) == "aaa"
    with pytest.raises(re.error):
        re.compile(r"(?U)a+")


def test_brace_without_min_is_literal_in_go():
    assert python_search(r"^x{,3}$", "xx")
    assert not go_search(r"^x{,3}$", "xx")
    assert go_search(r"^x{,3}$", "x{,3}")
    assert go_search(r"^a{01}$", "a{01}")        # leading zeros are no repeat count either


def test_unicode_classes():
    with pytest.raises(re.error):
        re.compile(r"\pL")
    assert go_search(r"^\pL+$", "héllo")
    assert go_search(r"^\p{Lu}", "Élan") and not go_search(r"^\p{Lu}", "élan")
    assert go_search(r"^\PL$", "1") and not go_search(r"^\P{L}$", "a")
    assert go_search(r"^[\p{Nd}x]+$", "x١2")
    with pytest.raises(RE2Error, match="script classes"):
        compile_re2(r"\p{Greek}")


def test_complemented_items_inside_classes():
    # Whitespace except newline; a letter or a non-word character.
    assert go_search(r"^[^\S\n]+$", " \t") and not go_search(r"^[^\S\n]+$", " \n")
    assert go_search(r"^[a\W]+$", "a-!") and not go_search(r"^[a\W]+$", "b")
    assert go_search(r"^[\d-z]+$", "1-z")          # "-" after \d is a literal in Go


@pytest.mark.parametrize("pattern, message", [
    (r"(a)\1", "backreferences"),
    (r"foo(?=bar)", "lookahead"),
    (r"foo(?!bar)", "lookahead"),
    (r"(?<=a)b", "lookbehind"),
    (r"(?<!a)b", "lookbehind"),
    (r"(?>ab)", "atomic"),
    (r"a*+", "nested repetition"),
    (r"a++", "nested repetition"),
    (r"(?#note)a", "comment"),
    (r"(?x)a b", "Perl syntax"),
    (r"a{1001}", "repeat count"),
    (r"[\b]", "escape"),
    (r"a\Z", "escape"),
    (r"(?P<name>a)(?P=name)", "backreference"),
])
def test_constructs_go_rejects_but_python_accepts(pattern, message):
    re.compile(pattern)                       # Python is happy ...
    with pytest.raises(RE2Error, match=message):
        compile_re2(pattern)                  # ... Prow would refuse the config


@pytest.mark.parametrize("pattern", ["(", ")", "a|*", "[a", "x{2,1}", "\\", r"\y", r"[z-a]", "(?i-)",
                                     "a{2}*", "a**"])
def test_invalid_patterns(pattern):
    with pytest.raises(RE2Error):
        compile_re2(pattern)


def test_default_trigger_semantics():
    trigger = compile_re2(r"(?m)^/test( | .* )pull-a,?($|\s.*)")
    assert trigger.search("/test pull-a")
    assert trigger.search("/test pull-b pull-a")
    assert trigger.search("/test pull-a, pull-b")
    assert trigger.search("looks good\r\n/test pull-a\r\n")
    assert not trigger.search("/test pull-a,pull-b")     # a comma must be followed by space or end
    assert not trigger.search("/test pull-ab")


def test_unanchored_search_like_go_matchstring():
    assert go_search("main", "maintenance")
    assert go_search("release-1.1", "release-1.11")


def test_flags_argument_and_cache():
    assert go_search("abc", "xABCx", re.IGNORECASE)
    assert go_search("^b$", "a\nb", re.MULTILINE)
    assert compile_re2("release-.*") is compile_re2("release-.*")
    with pytest.raises(ValueError):
        compile_re2("a", re.VERBOSE)


def test_case_folding_is_unicode_like_go():
    assert go_search(r"(?i)k", "\u212a")          # Kelvin sign folds to k in Go too
    assert go_search(r"(?i)\w", "\u212a")


def test_translation_is_readable():
    assert translate_re2(r"^main$") == r"(?:\A)main(?:\Z)"
    assert translate_re2(r"a(?i)b|c") == "a(?i:b)|(?i:c)"
