"""Cron schedules as Prow's horologium reads them (robfig/cron v3 with `SecondOptional | Minute | Hour |
Dom | Month | Dow | Descriptor`, every expression evaluated in UTC).

robfig's grammar is narrower than croniter's, so `parse_cron` checks the expression against robfig's
rules first (what robfig rejects is an error here, though croniter would take it: `L`, `W`, `#`, `H`,
a year field, `7` for Sunday, names other than three-letter ones), then hands a normalised
expression to croniter, which does the calendar arithmetic. `@every <duration>` is not a calendar
schedule and croniter has no notion of it: it is kept as a period (`Schedule.every`), which the
caller anchors on its last run.

Day matching follows robfig: when the day-of-month or day-of-week field is `*` or `?` (without a
step above 1), both fields must match; when both are restricted, either may. croniter's `day_or`
rule is the same once the unrestricted field is written as `*`, which the normalisation does.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from shared.config.durations import parse_duration_ns

__all__ = ["Schedule", "parse_cron", "validate_cron"]

_DESCRIPTORS = {
    "@yearly": "0 0 0 1 1 *", "@annually": "0 0 0 1 1 *", "@monthly": "0 0 0 1 * *",
    "@weekly": "0 0 0 * * 0", "@daily": "0 0 0 * * *", "@midnight": "0 0 0 * * *", "@hourly": "0 0 * * * *",
}
_EVERY = "@every "
_MONTHS = {name: i + 1 for i, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}
_DAYS = {name: i for i, name in enumerate("sun mon tue wed thu fri sat".split())}
# (name, minimum, maximum, names) per field, seconds first.
_FIELDS = (("second", 0, 59, {}), ("minute", 0, 59, {}), ("hour", 0, 23, {}),
           ("day of month", 1, 31, {}), ("month", 1, 12, _MONTHS), ("day of week", 0, 6, _DAYS))


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule: a calendar expression (`fields`, six, seconds first) or a period (`every`)."""

    expression: str
    fields: str = ""
    every: timedelta | None = None

    def latest(self, now: datetime) -> datetime | None:
        """The newest fire time at or before `now` (calendar schedules only), in UTC; None for a
        schedule that never fires (`0 0 30 2 *`: robfig takes it, and the corpus uses it for
        "only when asked")."""
        return _latest(self.fields, int(now.astimezone(timezone.utc).timestamp()))

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time after `moment` (calendar schedules only), in UTC."""
        from croniter import croniter
        start = moment.astimezone(timezone.utc)
        return croniter(self.fields, start, second_at_beginning=True).get_next(datetime).astimezone(timezone.utc)


@functools.lru_cache(maxsize=8192)
def _latest(fields: str, now_seconds: int) -> datetime | None:
    """Cached per expression and second: periodics share a few hundred expressions."""
    from croniter import CroniterBadDateError, croniter
    start = datetime.fromtimestamp(now_seconds + 1, tz=timezone.utc)
    try:
        return croniter(fields, start, second_at_beginning=True).get_prev(datetime).astimezone(timezone.utc)
    except CroniterBadDateError:
        return None


def _number(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    digits = text[1:] if text.startswith("+") else text
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"failed to parse int from {text}")
    return int(digits)


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> tuple[set[int], bool]:
    """(values, star) of one field, with robfig's errors."""
    values: set[int] = set()
    star = False
    for part in text.split(","):
        range_and_step = part.split("/")
        if len(range_and_step) > 2:
            raise ValueError(f"too many slashes: {part}")
        bounds = range_and_step[0].split("-")
        if len(bounds) > 2:
            raise ValueError(f"too many hyphens: {part}")
        part_star = bounds[0] in ("*", "?")
        if part_star:
            if len(bounds) > 1:
                raise ValueError(f"a range cannot start with {bounds[0]}: {part}")
            start, end = low, high
        else:
            start = _number(bounds[0], names)
            end = _number(bounds[1], names) if len(bounds) == 2 else start
        step = 1
        if len(range_and_step) == 2:
            step = _number(range_and_step[1], {})
            if len(bounds) == 1:          # `N/step` means N through the maximum
                end = high
            if step > 1:
                part_star = False
        if start < low:
            raise ValueError(f"beginning of {name} range ({start}) below minimum ({low}): {part}")
        if end > high:
            raise ValueError(f"end of {name} range ({end}) above maximum ({high}): {part}")
        if start > end:
            raise ValueError(f"beginning of {name} range ({start}) beyond end of range ({end}): {part}")
        if step == 0:
            raise ValueError(f"step of {name} range should be a positive number: {part}")
        values.update(range(start, end + 1, step))
        star = star or part_star
    return values, star


@functools.lru_cache(maxsize=4096)
def parse_cron(expression: str) -> Schedule:
    """The schedule of a periodic's `cron:`, or ValueError saying what robfig/cron would say."""
    spec = expression.strip()
    if not spec:
        raise ValueError("empty spec string")
    if spec.startswith("@"):
        if spec.startswith(_EVERY):
            try:
                nanos = parse_duration_ns(spec[len(_EVERY):])
            except ValueError as exc:
                raise ValueError(f"failed to parse duration {spec}: {exc}") from None
            seconds = max(1, nanos // 1_000_000_000)      # robfig rounds down to whole seconds, at least 1 s
            return Schedule(expression, every=timedelta(seconds=seconds))
        if spec not in _DESCRIPTORS:
            raise ValueError(f"unrecognized descriptor: {spec}")
        return Schedule(expression, fields=_DESCRIPTORS[spec])
    parts = spec.split()
    if len(parts) not in (5, 6):
        raise ValueError(f"expected 5 to 6 fields, found {len(parts)}: {spec}")
    if len(parts) == 5:
        parts = ["0", *parts]
    normalised = []
    for text, (name, low, high, names) in zip(parts, _FIELDS):
        values, star = _field(text, name, low, high, names)
        normalised.append("*" if star else ",".join(str(v) for v in sorted(values)))
    return Schedule(expression, fields=" ".join(normalised))


def validate_cron(expression: str) -> None:
    """ValueError if horologium could not schedule `expression` (the config loader's cron check)."""
    parse_cron(expression)
