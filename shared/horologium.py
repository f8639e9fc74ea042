"""Horologium: start the periodic jobs that are due (Prow's `cmd/horologium`), once a minute.

Prow keeps the cron schedule in memory and lists every ProwJob each tick. Here every tick decides
from stored state alone, so a timer that fires twice, two instances, or a restart change nothing:

- two partition reads per tick, whatever the number of periodics or past runs: the newest run of
  every periodic (`JobStore.latest_periodics()`: id and start) and the unfinished jobs (the `active`
  index). A record is read only when a decision needs its completion or result (a cron slot that
  came, a `minimum_interval` or `retry` periodic whose last run finished);
- every run is created under an id drawn from the job name and the slot it is for (uuid5), so of
  two ticks that decide to start the same slot the second finds the id taken.

The decision for one periodic, `prev` being its newest run (Prow's rules, section 3 of the spec):

- a periodic whose last run is unfinished never starts another;
- `interval`: runs when never run, else when `now − prev.start > interval` (slot: after `prev`);
- `minimum_interval`: the same from `prev.completionTime`;
- `cron`: only at the tick that comes within a minute after a fire time (`CRON_WINDOW`), as Prow
  consumes a fire at its next tick: a fire time that passed while no tick ran (an outage) is lost,
  never caught up, and one whose tick finds `prev` unfinished is skipped. A new cron periodic
  waits for its first fire time;
- `@every d` (robfig's constant delay): runs at once when never run, then every `d` from the
  minute its last run started; fire times that came while `prev` ran are skipped;
- `retry: {attempts, interval, run_all}` as Prow's `shouldTriggerFailedRun`, for a periodic that is
  not due otherwise: the run after a failed one (any finished one with `run_all`), labelled
  `prow.k8s.io/re-run: <n>`, at most min(attempts, 10) times, once `retry.interval` has passed
  since `prev` started.

Deliberate differences: Prow retries a `run_all` periodic while its last run is still going; we
never run two at once. Prow's schedule restarts from the moment horologium starts, so the first
fire time after a restart can be missed; here a fire time within the window of a tick is taken.
`horologium.tick_interval` is not read: the timer's schedule (every minute) is the tick.
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from shared.config.jobs import Periodic
from shared.cron import parse_cron
from shared.jobs.create import new_periodic
from shared.jobs.model import SUCCESS, ProwJob, utc_now
from shared.jobs.store import JobExists, JobStore

log = logging.getLogger("prow.horologium")

CRON_WINDOW = timedelta(seconds=60)     # the one tick (a minute apart) that comes after a fire time takes it
MAX_RETRIES = 10
RERUN_LABEL = "prow.k8s.io/re-run"
_ID_NAMESPACE = uuid.UUID("6f1c9a0e-3b7d-5e21-9c4a-8d2f0b6e1a57")


def periodic_job_id(job_name: str, slot: str) -> str:
    """The id of the run of `job_name` for `slot`: the same in every instance that decides it."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{job_name}\n{slot}"))


def parse_time(text: str) -> datetime | None:
    """metav1.Time's RFC 3339 text as a UTC datetime (None when empty or unreadable)."""
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc) if text else None
    except ValueError:
        return None


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Due:
    slot: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class TickResult:
    triggered: list[str] = field(default_factory=list)   # job ids created
    cron_not_queued: int = 0
    not_due: int = 0
    running: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"periodics-triggered={len(self.triggered)} cron-periodics-not-queued={self.cron_not_queued} "
                f"periodics-not-due={self.not_due} periodics-running={self.running} errors={len(self.errors)}")


class _Previous:
    """The newest run of one periodic: its pointer, and its record read at most once, on demand."""

    def __init__(self, pointer: dict, running: bool, read: Callable[[str], ProwJob | None]):
        self.id = pointer["Id"]
        self.start = parse_time(pointer.get("Start") or "")
        self.running = running
        self._read = read
        self._job: ProwJob | None = None
        self._loaded = False

    def job(self) -> ProwJob | None:
        if not self._loaded:
            self._job, self._loaded = self._read(self.id), True
        return self._job

    def completion(self) -> datetime | None:
        job = self.job()
        return parse_time(job.status.get("completionTime", "")) if job is not None else None


NOT_DUE, NOT_QUEUED, RUNNING = "not-due", "cron-not-queued", "running"


def decide(periodic: Periodic, prev: _Previous | None, now: datetime) -> Due | str:
    """What to do with one periodic at `now`: a `Due` run, or why not (NOT_DUE, NOT_QUEUED, RUNNING)."""
    if periodic.cron:
        schedule = parse_cron(periodic.cron)
        if schedule.every is not None:
            return _every(periodic, schedule.every, prev, now)
        slot = schedule.latest(now)
        if slot is None or now - slot >= CRON_WINDOW:
            return NOT_QUEUED
        slot_text = _iso(slot)
        if prev is None:
            return Due(slot_text)
        if prev.id == periodic_job_id(periodic.name, slot_text):
            return NOT_DUE
        return RUNNING if prev.running else Due(slot_text)

    if prev is None:
        return Due(_iso(_minute(now)))
    if prev.running:
        return RUNNING
    if periodic.minimum_interval is not None:
        if prev.job() is None:
            return Due(f"after {prev.id}")
        completed = prev.completion()
        if completed is None:
            return RUNNING
        if now - completed > periodic.minimum_interval:
            return Due(f"after {prev.id}")
    elif periodic.interval is not None and prev.start is not None and now - prev.start > periodic.interval:
        return Due(f"after {prev.id}")
    elif prev.start is None:
        return Due(f"after {prev.id}")
    return _retry(periodic, prev, now) or NOT_DUE


def _every(periodic: Periodic, every: timedelta, prev: _Previous | None, now: datetime) -> Due | str:
    if prev is None:
        return Due(_iso(_minute(now)))
    if prev.running:
        return RUNNING
    anchor = _minute(prev.start) if prev.start is not None else _minute(now) - every
    due = anchor + every
    if now < due:
        return NOT_DUE
    slot = due + ((now - due) // every) * every
    if prev.job() is not None:
        completed = prev.completion()
        if completed is None:
            return RUNNING
        if completed > slot:                # this fire time came while the last run was going
            return NOT_DUE
    return Due(_iso(slot))


def _retry(periodic: Periodic, prev: _Previous, now: datetime) -> Due | None:
    """Prow's shouldTriggerFailedRun for a finished `prev` (see the module docstring)."""
    retry = periodic.retry
    if not retry:
        return None
    job = prev.job()
    if job is None or not job.complete:
        return None
    count_label = job.labels.get(RERUN_LABEL)
    if count_label is None:
        run_count = 1
    else:
        try:
            run_count = int(count_label) + 1
        except ValueError:
            log.warning("horologium: %s has an unreadable %s label %r; not retrying", job.name, RERUN_LABEL,
                        count_label)
            return None
    attempts = retry.get("attempts") if isinstance(retry.get("attempts"), int) else 0
    if run_count > min(attempts, MAX_RETRIES):
        return None
    start = parse_time(job.status.get("startTime", "")) or prev.start
    wait = periodic.retry_interval or timedelta(0)
    if start is not None and now - start <= wait:
        return None
    if not retry.get("run_all") and job.state == SUCCESS:
        return None
    return Due(f"retry {prev.id}", {RERUN_LABEL: str(run_count)})


class Horologium:
    def __init__(self, *, store: JobStore, enqueue: Callable[[str], None], config: Callable[[], Any],
                 clock: Callable[[], datetime] = utc_now, publish: Callable[[Any], None] | None = None):
        self.store = store
        self.publish = publish          # the dashboard's publish_job, best effort
        self.enqueue = enqueue
        self.config = config
        self.clock = clock

    def tick(self, now: datetime | None = None) -> TickResult:
        now = (now or self.clock()).astimezone(timezone.utc)
        loaded = self.config()
        result = TickResult()
        latest = self.store.latest_periodics()
        running = {p["Id"] for p in self.store.unfinished_pointers()}
        namespace = loaded.prow.prowjob_namespace
        for periodic in loaded.jobs.periodics:
            pointer = latest.get(periodic.name)
            prev = _Previous(pointer, pointer["Id"] in running, self.store.find) if pointer else None
            try:
                decision = decide(periodic, prev, now)
                if isinstance(decision, Due):
                    self._start(periodic, decision, namespace, now, result)
                elif decision == NOT_QUEUED:
                    result.cron_not_queued += 1
                elif decision == RUNNING:
                    result.running += 1
                else:
                    result.not_due += 1
            except Exception as exc:      # one bad periodic never stops the others
                log.exception("horologium: periodic %s: %s", periodic.name, exc)
                result.errors.append(f"{periodic.name}: {exc}")
        log.info("horologium: synced periodic jobs: %s", result.summary())
        return result

    def _start(self, periodic: Periodic, due: Due, namespace: str, now: datetime, result: TickResult) -> None:
        job_id = periodic_job_id(periodic.name, due.slot)
        if self.store.find(job_id) is not None:      # another tick started this slot
            result.not_due += 1
            return
        job = new_periodic(periodic, extra_labels=due.labels, namespace=namespace, now=now)
        job.name = job_id
        try:
            job = self.store.create(job)
        except JobExists:
            result.not_due += 1
            return
        if self.publish is not None:
            from shared.dashboard.index import publish_best_effort
            publish_best_effort(job, self.store, publish=self.publish)
        self.enqueue(job_id)
        log.info("horologium: triggering %s (%s) as %s", periodic.name, due.slot, job_id)
        result.triggered.append(job_id)


def default_horologium() -> Horologium:
    from shared.config.source import get_config
    from shared.jobs.queue import JobQueue
    from shared.storage import default_clients
    clients = default_clients()
    queue = JobQueue(clients)
    from shared.dashboard.index import publish_job
    return Horologium(store=JobStore(clients), enqueue=queue.enqueue, config=get_config, publish=publish_job)


def run_horologium() -> TickResult:
    return default_horologium().tick()
