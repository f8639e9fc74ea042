"""Go RE2 regular expressions, read the way Prow reads them, compiled for Python's `re`.

Prow compiles every pattern in its configuration (`branches`, `run_if_changed`, `trigger`, ...)
with Go's `regexp` package and matches with `MatchString`, which searches (unanchored). The two
dialects agree on most text but differ in places that change which strings match:

- `$` without `(?m)` is the very end of the text in Go; Python's `$` also matches before a
  trailing newline. `\\z` is Go's spelling of Python's `\\Z`.
- `\\d \\w \\s \\b` are ASCII in Go; Go's `\\s` is `[\\t\\n\\f\\r ]` (no `\\v`).
- Go accepts flag groups anywhere (`a(?i)b`), the ungreedy flag `(?U)`, POSIX classes
  (`[[:alpha:]]`), `\\pL`/`\\p{Lu}`, `\\Q...\\E`, `\\x{263a}`, and treats `{,3}` as literal text.
- Go rejects backreferences, lookaround, atomic groups, possessive quantifiers, `(?#...)`,
  `(?x)`, repeat counts above 1000 and `[\\b]`, all of which Python accepts.

`compile_re2` parses a pattern with Go's grammar, reports what Go would reject as `RE2Error`, and
emits an equivalent Python pattern. Use the result with `.search()`, as Go's `MatchString` does.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

__all__ = ["RE2Error", "compile_re2", "translate_re2"]


class RE2Error(ValueError):
    """A pattern that Go's regexp package (and therefore Prow) rejects."""


# Go flag bits, as tracked while translating.
_FOLD = 1        # (?i)
_MULTILINE = 2   # (?m)
_DOTNL = 4       # (?s)
_UNGREEDY = 8    # (?U)

_MAX_REPEAT = 1000

# Sets written in Python character-class syntax.
_DIGIT = "0-9"
_WORD = "0-9A-Za-z_"
_SPACE = "\\t\\n\\f\\r "          # Go's \s: no \v
_PERL = {"d": (_DIGIT, False), "D": (_DIGIT, True),
         "w": (_WORD, False), "W": (_WORD, True),
         "s": (_SPACE, False), "S": (_SPACE, True)}

_POSIX = {
    "alnum": "0-9A-Za-z", "alpha": "A-Za-z", "ascii": "\\x00-\\x7f", "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f", "digit": "0-9", "graph": "!-~", "lower": "a-z",
    "print": " -~", "punct": "!-/:-@\\[-`{-~", "space": "\\t\\n\\v\\f\\r ", "upper": "A-Z",
    "word": _WORD, "xdigit": "0-9A-Fa-f",
}

_GO_CATEGORIES = frozenset(
    "C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No "
    "P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs".split())

_WORD_CLASS = "[" + _WORD + "]"
_WORD_BOUNDARY = f"(?:(?<={_WORD_CLASS})(?!{_WORD_CLASS})|(?<!{_WORD_CLASS})(?={_WORD_CLASS}))"
_NOT_WORD_BOUNDARY = f"(?:(?<={_WORD_CLASS})(?={_WORD_CLASS})|(?<!{_WORD_CLASS})(?!{_WORD_CLASS}))"

_REPEAT_BOUNDS = re.compile(r"\{(0|[1-9][0-9]*)(,(0|[1-9][0-9]*)?)?\}")

_UNSUPPORTED_GROUPS = {
    "=": "lookahead `(?=...)` is not supported by RE2",
    "!": "negative lookahead `(?!...)` is not supported by RE2",
    "<=": "lookbehind `(?<=...)` is not supported by RE2",
    "<!": "negative lookbehind `(?<!...)` is not supported by RE2",
    ">": "atomic group `(?>...)` is not supported by RE2",
    "#": "comment group `(?#...)` is not supported by RE2",
    "(": "conditional group `(?(...)...)` is not supported by RE2",
    "P=": "backreference `(?P=name)` is not supported by RE2",
    "P>": "recursion `(?P>name)` is not supported by RE2",
}


def _escape_char(ch: str) -> str:
    """One literal character, safe both inside and outside a Python character class."""
    code = ord(ch)
    if code < 0x80:
        if ch.isalnum():
            return ch
        if code < 0x20 or code == 0x7F:
            return f"\\x{code:02x}"
        return "\\" + ch
    return ch


@lru_cache(maxsize=1)
def _category_table() -> dict[str, str]:
    """Unicode general categories as Python class fragments (built once, on first \\p use)."""
    ranges: dict[str, list[list[int]]] = {}
    category = unicodedata.category
    for code in range(0x110000):
        cat = category(chr(code))
        if cat == "Cn":
            continue
        for key in (cat, cat[0]):
            spans = ranges.setdefault(key, [])
            if spans and spans[-1][1] == code - 1:
                spans[-1][1] = code
            else:
                spans.append([code, code])
    table = {}
    for key, spans in ranges.items():
        table[key] = "".join(_escape_char(chr(lo)) if lo == hi
                             else f"{_escape_char(chr(lo))}-{_escape_char(chr(hi))}"
                             for lo, hi in spans)
    table["Any"] = "\\x00-\U0010ffff"
    return table


class _Frame:
    __slots__ = ("saved_flags", "base_fold", "scope")

    def __init__(self, saved_flags: int, base_fold: bool):
        self.saved_flags = saved_flags   # Go flags to restore at the closing paren
        self.base_fold = base_fold       # Python's case folding in effect at the group start
        self.scope: str | None = None    # an open "(?i:" / "(?-i:" emitted for a flag directive


class _Translator:
    def __init__(self, pattern: str, flags: int):
        self.src = pattern
        self.pos = 0
        self.flags = flags
        self.out: list[str] = []
        self.frames = [_Frame(flags, bool(flags & _FOLD))]
        # What the previous token was, for repetition checks: None (nothing to repeat),
        # "atom", or "repeat" (Go refuses to stack repetition operators).
        self.last: str | None = None
        self.last_repeat_text = ""

    # -- helpers ---------------------------------------------------------------------------------

    def error(self, message: str) -> RE2Error:
        return RE2Error(message)

    def python_fold(self) -> bool:
        frame = self.frames[-1]
        if frame.scope is not None:
            return frame.scope == "(?i:"
        return frame.base_fold

    def emit_atom(self, text: str) -> None:
        self.out.append(text)
        self.last = "atom"

    def close_scope(self, frame: _Frame) -> None:
        if frame.scope is not None:
            self.out.append(")")
            frame.scope = None

    def set_fold(self, fold: bool) -> None:
        """Make Python's case folding follow a mid-group `(?i)` / `(?-i)` directive."""
        frame = self.frames[-1]
        if fold == self.python_fold():
            return
        if frame.scope is not None:
            self.close_scope(frame)
            self.last = "atom"
        if fold != frame.base_fold:
            frame.scope = "(?i:" if fold else "(?-i:"
            self.out.append(frame.scope)
            self.last = None

    # -- main loop -------------------------------------------------------------------------------

    def translate(self) -> str:
        src = self.src
        while self.pos < len(src):
            ch = src[self.pos]
            repeat_text = ""
            if ch == "(":
                self.open_group()
            elif ch == "|":
                frame = self.frames[-1]
                if frame.scope is not None:
                    self.out.append(")|" + frame.scope)
                else:
                    self.out.append("|")
                self.pos += 1
                self.last = None
            elif ch == ")":
                if len(self.frames) == 1:
                    raise self.error(f"unexpected ): `{src}`")
                frame = self.frames.pop()
                self.close_scope(frame)
                self.out.append(")")
                self.flags = frame.saved_flags
                self.pos += 1
                self.last = "atom"
            elif ch == "^":
                self.emit_atom("(?m:^)" if self.flags & _MULTILINE else "(?:\\A)")
                self.pos += 1
            elif ch == "$":
                self.emit_atom("(?m:$)" if self.flags & _MULTILINE else "(?:\\Z)")
                self.pos += 1
            elif ch == ".":
                self.emit_atom("(?s:.)" if self.flags & _DOTNL else ".")
                self.pos += 1
            elif ch == "[":
                self.emit_atom(self.parse_class())
            elif ch in "*+?":
                repeat_text = self.repeat(ch, self.pos + 1)
            elif ch == "{":
                bounds = self.parse_repeat_bounds()
                if bounds is None:
                    self.emit_atom("\\{")
                    self.pos += 1
                else:
                    lo, hi, end = bounds
                    text = src[self.pos:end]
                    if lo > _MAX_REPEAT or (hi is not None and (hi > _MAX_REPEAT or lo > hi)):
                        raise self.error(f"invalid repeat count: `{text}`")
                    op = "{%d}" % lo if hi == lo and "," not in text else (
                        "{%d,}" % lo if hi is None else "{%d,%d}" % (lo, hi))
                    repeat_text = self.repeat(op, end, text)
            elif ch == "\\":
                self.parse_escape_atom()
            else:
                self.emit_atom(_escape_char(ch))
                self.pos += 1
            if repeat_text:
                self.last = "repeat"
                self.last_repeat_text = repeat_text
        if len(self.frames) != 1:
            raise self.error(f"missing closing ): `{src}`")
        self.close_scope(self.frames[0])
        return "".join(self.out)

    # -- repetition ------------------------------------------------------------------------------

    def repeat(self, op: str, after: int, text: str | None = None) -> str:
        src = self.src
        text = text if text is not None else op
        lazy = after < len(src) and src[after] == "?"
        if lazy:
            after += 1
        full = src[self.pos:after]
        if self.last == "repeat":
            raise self.error(f"invalid nested repetition operator: `{self.last_repeat_text}{full}`")
        if self.last is None:
            raise self.error(f"missing argument to repetition operator: `{full}`")
        if self.flags & _UNGREEDY:
            lazy = not lazy
        self.out.append(op + ("?" if lazy else ""))
        self.pos = after
        return full

    def parse_repeat_bounds(self) -> tuple[int, int | None, int] | None:
        """`{n}`, `{n,}` or `{n,m}` at pos, as Go parses them; None means a literal `{`."""
        match = _REPEAT_BOUNDS.match(self.src, self.pos)
        if match is None:
            return None
        lo = int(match.group(1))
        if match.group(2) is None:
            hi: int | None = lo
        elif match.group(3) is None:
            hi = None
        else:
            hi = int(match.group(3))
        return lo, hi, match.end()

    # -- groups ----------------------------------------------------------------------------------

    def open_group(self) -> None:
        src = self.src
        start = self.pos
        if not src.startswith("(?", start):
            self.frames.append(_Frame(self.flags, self.python_fold()))
            self.out.append("(")
            self.pos += 1
            self.last = None
            return
        rest = src[start + 2:]
        for prefix, message in _UNSUPPORTED_GROUPS.items():
            if rest.startswith(prefix):
                raise self.error(message)
        if rest.startswith("P<") or (rest.startswith("<") and not rest.startswith(("<=", "<!"))):
            name_start = start + (4 if rest.startswith("P<") else 3)
            end = src.find(">", name_start)
            if end < 0:
                raise self.error(f"invalid named capture: `{src[start:]}`")
            name = src[name_start:end]
            if not name or not all(c == "_" or (c.isascii() and c.isalnum()) for c in name):
                raise self.error(f"invalid named capture: `{src[start:end + 1]}`")
            self.frames.append(_Frame(self.flags, self.python_fold()))
            # Python requires identifiers; Go also allows names such as "1x". Keep the capture.
            self.out.append(f"(?P<{name}>" if name.isidentifier() else "(")
            self.pos = end + 1
            self.last = None
            return
        if rest.startswith("P"):
            raise self.error(f"invalid named capture: `{src[start:start + 3]}`")
        self.parse_flags(start)

    def parse_flags(self, start: int) -> None:
        src = self.src
        i = start + 2
        flags = self.flags
        negate = False
        saw_flag = False
        c = ""
        while i < len(src):
            c = src[i]
            i += 1
            if c in "imsU":
                bit = {"i": _FOLD, "m": _MULTILINE, "s": _DOTNL, "U": _UNGREEDY}[c]
                flags = flags & ~bit if negate else flags | bit
                saw_flag = True
                continue
            if c == "-" and not negate:
                negate = True
                saw_flag = False
                continue
            if c in ":)":
                if negate and not saw_flag:
                    break
                fold = bool(flags & _FOLD)
                if c == ":":
                    current = self.python_fold()
                    frame = _Frame(self.flags, fold)
                    self.frames.append(frame)
                    if fold == current:
                        self.out.append("(?:")
                    else:
                        self.out.append("(?i:" if fold else "(?-i:")
                    self.flags = flags
                    self.pos = i
                    self.last = None
                    return
                self.flags = flags
                self.pos = i
                self.set_fold(fold)
                return
            break
        text = src[start:i]
        if c == "x" or (c.isalpha() and c not in "imsU"):
            raise self.error(f"invalid or unsupported Perl syntax: `{text}` (flag {c!r} is not an RE2 flag)")
        raise self.error(f"invalid or unsupported Perl syntax: `{text}`")

    # -- escapes ---------------------------------------------------------------------------------

    def parse_escape_atom(self) -> None:
        src = self.src
        if self.pos + 1 >= len(src):
            raise self.error("trailing backslash at end of expression")
        c = src[self.pos + 1]
        if c == "A":
            self.emit_atom("(?:\\A)")
            self.pos += 2
        elif c == "z":
            self.emit_atom("(?:\\Z)")
            self.pos += 2
        elif c in "bB":
            text = _WORD_BOUNDARY if c == "b" else _NOT_WORD_BOUNDARY
            # Go's word characters are ASCII whatever the case folding.
            self.emit_atom(f"(?-i:{text})" if self.python_fold() else text)
            self.pos += 2
        elif c == "C":
            raise self.error("invalid escape sequence: `\\C` (any byte is not supported by RE2)")
        elif c == "Q":
            end = src.find("\\E", self.pos + 2)
            literal = src[self.pos + 2:] if end < 0 else src[self.pos + 2:end]
            self.pos = len(src) if end < 0 else end + 2
            for ch in literal:
                self.emit_atom(_escape_char(ch))
        elif c in "pP":
            positive, negative, self.pos = self.parse_unicode_class(self.pos)
            self.emit_atom(_class_expr([positive] if positive else [], [negative] if negative else [], False))
        elif c in _PERL:
            chars, negated = _PERL[c]
            self.emit_atom(f"[^{chars}]" if negated else f"[{chars}]")
            self.pos += 2
        else:
            ch, self.pos = self.parse_escape(self.pos)
            self.emit_atom(_escape_char(ch))

    def parse_escape(self, pos: int) -> tuple[str, int]:
        """A single-character escape at pos (which holds the backslash)."""
        src = self.src
        if pos + 1 >= len(src):
            raise self.error("trailing backslash at end of expression")
        c = src[pos + 1]
        t = pos + 2
        if c.isascii() and not c.isalnum():
            return c, t
        if c in "1234567" and not (t < len(src) and src[t] in "01234567"):
            raise self.error(f"invalid escape sequence: `\\{c}` (backreferences are not supported by RE2)")
        if c in "01234567":
            value = int(c)
            for _ in range(2):
                if t < len(src) and src[t] in "01234567":
                    value = value * 8 + int(src[t])
                    t += 1
                else:
                    break
            return chr(value), t
        if c == "x":
            if t < len(src) and src[t] == "{":
                end = src.find("}", t)
                digits = src[t + 1:end] if end > 0 else ""
                if end > 0 and digits and all(d in "0123456789abcdefABCDEF" for d in digits):
                    value = int(digits, 16)
                    if value <= 0x10FFFF:
                        return chr(value), end + 1
                raise self.error(f"invalid escape sequence: `{src[pos:(end + 1) if end > 0 else len(src)]}`")
            digits = src[t:t + 2]
            if len(digits) == 2 and all(d in "0123456789abcdefABCDEF" for d in digits):
                return chr(int(digits, 16)), t + 2
            raise self.error(f"invalid escape sequence: `{src[pos:t + 2]}`")
        simple = {"a": "\a", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
        if c in simple:
            return simple[c], t
        hint = ""
        if c == "Z":
            hint = " (RE2 spells end of text `\\z`)"
        elif c == "b":
            hint = " (`\\b` is not a backspace inside a class in RE2; use `\\x08`)"
        elif c in "89":
            hint = " (backreferences are not supported by RE2)"
        elif c in "GKRXhHNVe":
            hint = " (not supported by RE2)"
        raise self.error(f"invalid escape sequence: `\\{c}`{hint}")

    def parse_unicode_class(self, pos: int) -> tuple[str, str, int]:
        """`\\pX`, `\\p{Name}`, `\\PX`, `\\p{^Name}` at pos: (positive, negative, end)."""
        src = self.src
        negated = src[pos + 1] == "P"
        t = pos + 2
        if t >= len(src):
            raise self.error(f"invalid character class range: `{src[pos:]}`")
        if src[t] == "{":
            end = src.find("}", t)
            if end < 0:
                raise self.error(f"invalid character class range: `{src[pos:]}`")
            name = src[t + 1:end]
            seq = src[pos:end + 1]
            t = end + 1
        else:
            name = src[t]
            seq = src[pos:t + 1]
            t += 1
        if name.startswith("^"):
            negated = not negated
            name = name[1:]
        if name != "Any" and name not in _GO_CATEGORIES:
            if name and name[0].isupper() and name.isalpha():
                raise self.error(
                    f"unsupported Unicode class `{seq}`: script classes are not supported here; "
                    "use explicit character ranges")
            raise self.error(f"invalid character class range: `{seq}`")
        chars = _category_table().get(name, "")
        return ("", chars, t) if negated else (chars, "", t)

    # -- character classes -----------------------------------------------------------------------

    def parse_class(self) -> str:
        src = self.src
        start = self.pos
        t = start + 1
        negated = False
        if t < len(src) and src[t] == "^":
            negated = True
            t += 1
        positive: list[str] = []
        negative: list[str] = []
        first = True
        while True:
            if t >= len(src):
                raise self.error(f"missing closing ]: `{src[start:]}`")
            if src[t] == "]" and not first:
                t += 1
                break
            first = False
            if src.startswith("[:", t):
                end = src.find(":]", t + 2)
                if end >= 0:
                    name = src[t + 2:end]
                    neg = name.startswith("^")
                    chars = _POSIX.get(name[1:] if neg else name)
                    if chars is None:
                        raise self.error(f"invalid character class range: `{src[t:end + 2]}`")
                    (negative if neg else positive).append(chars)
                    t = end + 2
                    continue
            if src.startswith(("\\p", "\\P"), t):
                pos_chars, neg_chars, t = self.parse_unicode_class(t)
                if pos_chars:
                    positive.append(pos_chars)
                if neg_chars:
                    negative.append(neg_chars)
                continue
            if src[t] == "\\" and t + 1 < len(src) and src[t + 1] in _PERL:
                chars, neg = _PERL[src[t + 1]]
                (negative if neg else positive).append(chars)
                t += 2
                continue
            lo, t = self.class_char(t, start)
            hi = lo
            if t + 1 < len(src) and src[t] == "-" and src[t + 1] != "]":
                range_start = t
                hi, t = self.class_char(t + 1, start)
                if ord(hi) < ord(lo):
                    raise self.error(f"invalid character class range: `{lo}{src[range_start:t]}`")
            positive.append(_escape_char(lo) if lo == hi else f"{_escape_char(lo)}-{_escape_char(hi)}")
        self.pos = t
        return _class_expr(positive, negative, negated)

    def class_char(self, t: int, start: int) -> tuple[str, int]:
        src = self.src
        if t >= len(src):
            raise self.error(f"missing closing ]: `{src[start:]}`")
        if src[t] == "\\":
            return self.parse_escape(t)
        return src[t], t + 1


def _class_expr(positive: list[str], negative: list[str], negated: bool) -> str:
    """A Python expression for the class: union of `positive` sets and complements of `negative`."""
    pos = "".join(positive)
    if not negative:
        if not pos:
            # Go's [^\x00-\x{10FFFF}]-style empty sets: match nothing.
            return "(?!)" if not negated else "[\\x00-\U0010ffff]"
        return f"[^{pos}]" if negated else f"[{pos}]"
    if not negated:
        parts = ([f"[{pos}]"] if pos else []) + [f"[^{n}]" for n in negative]
        return parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
    # Complement of (pos ∪ ¬n1 ∪ ¬n2 …) = ¬pos ∩ n1 ∩ n2 …
    guards = ([f"(?![{pos}])"] if pos else []) + [f"(?=[{n}])" for n in negative[:-1]]
    return "(?:" + "".join(guards) + f"[{negative[-1]}])"


_PY_FLAGS = {re.IGNORECASE: _FOLD, re.MULTILINE: _MULTILINE, re.DOTALL: _DOTNL}


def _go_flags(flags: int) -> int:
    result = 0
    for py_flag, go_flag in _PY_FLAGS.items():
        if flags & py_flag:
            result |= go_flag
            flags &= ~py_flag
    if flags:
        raise ValueError("compile_re2 accepts only re.IGNORECASE, re.MULTILINE and re.DOTALL")
    return result


def translate_re2(pattern: str, flags: int = 0) -> str:
    """The Python pattern equivalent to Go's reading of `pattern`. Raises RE2Error."""
    return _Translator(pattern, _go_flags(flags)).translate()


@lru_cache(maxsize=16384)
def compile_re2(pattern: str, flags: int = 0) -> re.Pattern:
    """Compile `pattern` as Go's regexp would read it; use `.search()` for Go's MatchString.

    `flags` may hold re.IGNORECASE, re.MULTILINE, re.DOTALL: the same as a leading `(?i)`,
    `(?m)`, `(?s)`. Raises RE2Error for anything Go's regexp package rejects.
    """
    go_flags = _go_flags(flags)
    translated = _Translator(pattern, go_flags).translate()
    try:
        return re.compile(translated, re.IGNORECASE if go_flags & _FOLD else 0)
    except re.error as exc:  # pragma: no cover - the translator should never produce this
        raise RE2Error(f"cannot express `{pattern}` in Python: {exc}") from None
