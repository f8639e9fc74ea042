"""Durations as Go's `time.ParseDuration` reads them (`1h30m`, `90s`, `500ms`, `1.5h`, `-2m`).

Prow's config holds three kinds of duration fields:
- plain strings parsed with `time.ParseDuration` (`interval`, `minimum_interval`, `retry.interval`)
  and `metav1.Duration` fields (`pod_pending_timeout`, sinker ages ...): a string is required;
- `prowapi.Duration` fields (`decoration_config.timeout`, `grace_period`): either a duration
  string or an integer number of nanoseconds (`parse_prow_duration`).

Go keeps nanoseconds; `datetime.timedelta` keeps microseconds, so `parse_duration` truncates
toward zero below one microsecond. `parse_duration_ns` gives the exact nanosecond count.
"""
from __future__ import annotations

from datetime import timedelta

__all__ = ["format_duration", "parse_duration", "parse_duration_ns", "parse_prow_duration"]

_UNITS_NS = {
    "ns": 1,
    "us": 1_000, "µs": 1_000, "μs": 1_000,  # U+00B5 micro sign and U+03BC Greek mu
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60 * 1_000_000_000,
    "h": 3600 * 1_000_000_000,
}
_MAX_NS = (1 << 63) - 1


def parse_duration_ns(text: str) -> int:
    """Nanoseconds in `text`, or ValueError with Go's wording (`time: invalid duration "x"`)."""
    if not isinstance(text, str):
        raise ValueError(f"time: invalid duration {text!r}: expected a string such as \"1h30m\"")
    original = text
    quoted = '"' + original + '"'
    negative = False
    if text and text[0] in "+-":
        negative = text[0] == "-"
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise ValueError(f"time: invalid duration {quoted}")
    total = 0
    i = 0
    while i < len(text):
        start = i
        while i < len(text) and text[i].isascii() and text[i].isdigit():
            i += 1
        whole = text[start:i]
        fraction = ""
        if i < len(text) and text[i] == ".":
            i += 1
            frac_start = i
            while i < len(text) and text[i].isascii() and text[i].isdigit():
                i += 1
            fraction = text[frac_start:i]
        if not whole and not fraction:
            raise ValueError(f"time: invalid duration {quoted}")
        unit_start = i
        while i < len(text) and text[i] != "." and not (text[i].isascii() and text[i].isdigit()):
            i += 1
        unit = text[unit_start:i]
        if not unit:
            raise ValueError(f"time: missing unit in duration {quoted}")
        scale = _UNITS_NS.get(unit)
        if scale is None:
            raise ValueError(f'time: unknown unit "{unit}" in duration {quoted} '
                             "(valid units are ns, us, ms, s, m, h)")
        value = int(whole or "0") * scale
        if fraction:
            # Exact arithmetic; Go truncates the fractional nanoseconds too.
            value += int(fraction) * scale // (10 ** len(fraction))
        total += value
        if total > _MAX_NS + (1 if negative else 0):
            raise ValueError(f"time: invalid duration {quoted}")
    return -total if negative else total


def parse_duration(text: str) -> timedelta:
    """Go's `time.ParseDuration` as a timedelta (sub-microsecond parts are dropped)."""
    return _from_ns(parse_duration_ns(text))


def _from_ns(ns: int) -> timedelta:
    # Truncate toward zero, as Go's Duration.Microseconds() does.
    return timedelta(microseconds=-(-ns // 1000) if ns < 0 else ns // 1000)


def parse_prow_duration(value: object) -> timedelta:
    """A `prowapi.Duration` field: a duration string or an integer count of nanoseconds."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"invalid duration {value!r}: expected a string such as \"2h\" "
                         "or an integer number of nanoseconds")
    if isinstance(value, int):
        if not -(1 << 63) <= value <= _MAX_NS:
            raise ValueError(f"invalid duration {value}: out of range")
        return _from_ns(value)
    return parse_duration(value)


def format_duration(value: timedelta | int) -> str:
    """Go's `Duration.String()`: `1h30m0s`, `1.5s`, `500ms`, `0s` (int means nanoseconds)."""
    ns = value if isinstance(value, int) else (
        (value.days * 86400 + value.seconds) * 1_000_000_000 + value.microseconds * 1000)
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, scale in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= scale:
                return sign + _fraction(ns, scale) + unit
    hours, rest = divmod(ns, 3600 * 1_000_000_000)
    minutes, rest = divmod(rest, 60 * 1_000_000_000)
    text = _fraction(rest, 1_000_000_000) + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{text}"
    if minutes:
        return f"{sign}{minutes}m{text}"
    return sign + text


def _fraction(value: int, scale: int) -> str:
    whole, rest = divmod(value, scale)
    if not rest:
        return str(whole)
    digits = str(rest).rjust(len(str(scale)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}"
