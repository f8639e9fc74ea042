"""Horologium on Azurite with a controllable clock: which periodic runs start, and when."""
from __future__ import annotations

import random
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared.config.loader import load_config
from shared.cron import parse_cron
from shared.horologium import RERUN_LABEL, Horologium, parse_time, periodic_job_id
from shared.jobs.model import FAILURE, SUCCESS
from shared.jobs.store import JobStore
from shared.storage import StorageClients, StorageSettings
from tests.conftest import CORPUS as SHARED_CORPUS

CORPUS = SHARED_CORPUS / "prow-configs"
DAY = datetime(2026, 3, 2, tzinfo=timezone.utc)          # a Monday
POD = {"containers": [{"image": "alpine", "command": ["true"]}]}


@pytest.fixture
def store(azurite, unique_name):
    s = JobStore(StorageClients(StorageSettings(connection_string=azurite.connection_string)),
                 table=unique_name("horologium"))
    s.ensure_table()
    return s


def periodics_config(tmp_path: Path, periodics: str):
    (tmp_path / "config.yaml").write_text("prowjob_namespace: prow\npod_namespace: test-pods\n")
    (tmp_path / "jobs.yaml").write_text("periodics:\n" + textwrap.indent(textwrap.dedent(periodics), "  "))
    loaded = load_config(str(tmp_path / "config.yaml"), str(tmp_path / "jobs.yaml"))
    assert loaded.ok, [str(e) for e in loaded.errors]
    return loaded


class Simulation:
    """Horologium ticking once a minute over a clock the test moves; runs finish after `durations`."""

    def __init__(self, store: JobStore, loaded, durations: dict[str, timedelta], *,
                 outcome: dict[str, str] | None = None):
        self.store, self.loaded, self.durations = store, loaded, durations
        self.outcome = outcome or {}
        self.queued: list[str] = []
        self.going: dict[str, datetime] = {}
        self.names: dict[str, str] = {}
        self.now = DAY
        self.horologium = Horologium(store=store, enqueue=self.started, config=lambda: loaded)

    def started(self, job_id: str) -> None:
        self.queued.append(job_id)
        self.going[job_id] = self.now

    def finish_due(self, now: datetime) -> None:
        for job_id, start in list(self.going.items()):
            name = self.names.setdefault(job_id, self.store.get(job_id).job)
            if now - start >= self.durations.get(name, self.durations.get("*", timedelta(minutes=5))):
                self.store.modify(job_id, lambda j: j.set_state(self.outcome.get(j.job, SUCCESS), now=now))
                del self.going[job_id]

    def tick(self, now: datetime):
        self.finish_due(now)
        self.now = now
        return self.horologium.tick(now)

    def run(self, start: datetime, end: datetime, *, skip=lambda now: False, twice=()) -> None:
        now = start
        while now < end:
            if not skip(now):
                self.tick(now)
                if now in twice:
                    self.tick(now + timedelta(seconds=20))
            now += timedelta(minutes=1)

    def starts(self, name: str) -> list[datetime]:
        return sorted(parse_time(j.status["startTime"]) for j in self.store.history(name, limit=1000))

    def runs(self, name: str):
        return sorted(self.store.history(name, limit=1000), key=lambda j: j.status["startTime"])


def at(hour: int, minute: int = 0, second: int = 1) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute, seconds=second)


def test_a_day_of_cron_and_interval_periodics_with_an_outage_and_a_double_fire(store, tmp_path):
    loaded = periodics_config(tmp_path, f"""\
        - name: hourly
          cron: "0 * * * *"
          spec: {POD}
        - name: slow-every-ten
          cron: "*/10 * * * *"
          spec: {POD}
        - name: two-hourly
          interval: 2h
          spec: {POD}
        - name: rest-three-hours
          minimum_interval: 3h
          spec: {POD}
        - name: at-half-past-nine
          cron: "0 30 9 * * *"
          spec: {POD}
        """)
    sim = Simulation(store, loaded, {"slow-every-ten": timedelta(minutes=15), "two-hourly": timedelta(minutes=30),
                                     "rest-three-hours": timedelta(hours=1)})
    outage = (at(6, 0, 30), at(9, 0, 0))                 # no tick from 06:01 to 08:59
    sim.run(at(0), at(24), skip=lambda now: outage[0] <= now < outage[1], twice={at(12), at(13, 20)})

    hourly = [t.hour for t in sim.starts("hourly")]
    assert hourly == [0, 1, 2, 3, 4, 5, 6, *range(9, 24)]           # 07:00 and 08:00 are lost, not caught up
    assert all(t.minute == 0 for t in sim.starts("hourly"))

    # */10 with 15-minute runs: every fire that comes while the last run is going is skipped.
    slow = sim.starts("slow-every-ten")
    assert [t.strftime("%H:%M") for t in slow[:4]] == ["00:00", "00:20", "00:40", "01:00"]
    assert len([t for t in slow if t == at(13, 20)]) == 1

    # interval 2h: the first tick runs it, then the first tick more than 2h after each start;
    # after the outage it runs once, at the first tick.
    assert sim.starts("two-hourly")[:3] == [at(0), at(2, 1), at(4, 2)]
    assert at(9, 0) in sim.starts("two-hourly")
    gaps = [b - a for a, b in zip(sim.starts("two-hourly"), sim.starts("two-hourly")[1:])]
    assert all(gap > timedelta(hours=2) for gap in gaps)

    # minimum_interval 3h counts from the end of the last run (1 hour long).
    assert sim.starts("rest-three-hours")[:2] == [at(0), at(4, 1)]

    # a new cron periodic waits for its first fire time; it runs once although 12:00 ticked twice.
    assert sim.starts("at-half-past-nine") == [at(9, 30)]

    # never two runs of one periodic at once
    for name in ("hourly", "slow-every-ten", "two-hourly", "rest-three-hours"):
        runs = sim.runs(name)
        for earlier, later in zip(runs, runs[1:]):
            assert parse_time(earlier.status["completionTime"]) <= parse_time(later.status["startTime"])
    assert len(sim.queued) == len(set(sim.queued)) == sum(len(sim.runs(p.name)) for p in loaded.jobs.periodics)


def test_a_timer_that_fires_twice_or_two_instances_start_one_run(store, tmp_path):
    loaded = periodics_config(tmp_path, f"""\
        - name: nightly
          cron: "0 0 * * *"
          spec: {POD}
        - name: fresh
          interval: 1h
          spec: {POD}
        """)
    first, second = (Horologium(store=store, enqueue=lambda _: None, config=lambda: loaded) for _ in range(2))
    started = first.tick(at(0, 0, 0)).triggered + second.tick(at(0, 0, 2)).triggered
    started += first.tick(at(0, 0, 40)).triggered
    assert len(started) == 2
    assert {j.job for j in (store.get(i) for i in started)} == {"nightly", "fresh"}
    assert periodic_job_id("nightly", "2026-03-02T00:00:00Z") in started


def test_a_cron_fire_after_a_long_gap_is_not_replayed(store, tmp_path):
    loaded = periodics_config(tmp_path, f"""\
        - name: nightly
          cron: "@daily"
          spec: {POD}
        """)
    sim = Simulation(store, loaded, {})
    assert sim.tick(at(0, 0, 5)).triggered
    assert not sim.tick(at(0, 2)).triggered                       # same slot, already run
    assert not sim.tick(DAY + timedelta(days=1, minutes=5)).triggered   # 00:00 passed while no tick ran
    assert sim.tick(DAY + timedelta(days=2, seconds=3)).triggered


def test_every_runs_at_once_then_every_period_from_its_last_start(store, tmp_path):
    loaded = periodics_config(tmp_path, f"""\
        - name: every-90m
          cron: "@every 90m"
          spec: {POD}
        """)
    sim = Simulation(store, loaded, {"every-90m": timedelta(minutes=100)})
    sim.run(at(0, 7), at(6, 7))
    # 00:07 at once; the 01:37 fire comes while the 100-minute run is going (skipped), 03:07 runs.
    assert sim.starts("every-90m") == [at(0, 7), at(3, 7)]


def test_failed_periodics_are_retried_as_prow_retries_them(store, tmp_path):
    loaded = periodics_config(tmp_path, f"""\
        - name: flaky
          interval: 24h
          retry: {{attempts: 2, interval: 10m}}
          spec: {POD}
        - name: fine
          interval: 24h
          retry: {{attempts: 2, interval: 10m}}
          spec: {POD}
        """)
    sim = Simulation(store, loaded, {}, outcome={"flaky": FAILURE})
    sim.run(at(0), at(2))
    flaky = sim.runs("flaky")
    assert [j.labels.get(RERUN_LABEL) for j in flaky] == [None, "1", "2"]
    starts = [parse_time(j.status["startTime"]) for j in flaky]
    assert starts[0] == at(0) and all(b - a > timedelta(minutes=10) for a, b in zip(starts, starts[1:]))
    assert len(sim.runs("fine")) == 1


def test_the_run_carries_extra_refs_cluster_labels_and_annotations(store, tmp_path):
    loaded = periodics_config(tmp_path, f"""\
        - name: bump
          interval: 1h
          cluster: build01
          labels: {{team: infra}}
          annotations: {{testgrid-dashboards: infra}}
          extra_refs: [{{org: metal3-io, repo: project-infra, base_ref: main}}]
          spec: {POD}
        """)
    queued = []
    result = Horologium(store=store, enqueue=queued.append, config=lambda: loaded).tick(at(3))
    job = store.get(result.triggered[0])
    assert queued == [job.name]
    assert job.type == "periodic" and job.namespace == "prow" and job.spec["report"] is True
    assert job.spec["cluster"] == "build01"
    assert job.spec["extra_refs"] == [{"org": "metal3-io", "repo": "project-infra", "base_ref": "main"}]
    assert job.labels["team"] == "infra" and job.labels["prow.k8s.io/refs.repo"] == "project-infra"
    assert job.annotations["testgrid-dashboards"] == "infra"
    assert job.status["state"] == "triggered" and job.status["startTime"] == "2026-03-02T03:00:01Z"


def test_one_periodic_that_cannot_be_scheduled_does_not_stop_the_others(store, tmp_path):
    loaded = periodics_config(tmp_path, f"""\
        - name: broken
          cron: "0 0 * * *"
          spec: {POD}
        - name: never-on-february-30
          cron: "0 0 30 2 *"
          spec: {POD}
        - name: hourly
          interval: 1h
          spec: {POD}
        """)
    loaded.jobs.periodics[0].cron = "0 0 L * *"           # as if a bad string had got past checkconfig
    result = Horologium(store=store, enqueue=lambda _: None, config=lambda: loaded).tick(at(0))
    assert len(result.triggered) == 1 and store.get(result.triggered[0]).job == "hourly"
    assert len(result.errors) == 1 and result.errors[0].startswith("broken")
    assert result.cron_not_queued == 1                     # February 30th never comes: no run, no error


def test_a_cron_string_horologium_cannot_parse_is_a_config_error_with_file_and_line(tmp_path):
    (tmp_path / "config.yaml").write_text("prowjob_namespace: prow\n")
    (tmp_path / "jobs.yaml").write_text(textwrap.dedent(f"""\
        periodics:
        - name: ok
          cron: "0 4 * * *"
          spec: {POD}
        - name: last-day
          cron: "0 0 L * *"
          spec: {POD}
        - name: sunday-as-seven
          cron: "0 0 * * 7"
          spec: {POD}
        """))
    loaded = load_config(str(tmp_path / "config.yaml"), str(tmp_path / "jobs.yaml"))
    errors = sorted((e.line, e.message) for e in loaded.errors if e.file.endswith("jobs.yaml"))
    assert [line for line, _ in errors] == [6, 9]
    assert "invalid cron string '0 0 L * *'" in errors[0][1] and "above maximum" in errors[1][1]


@pytest.mark.parametrize("expression, now, latest", [
    ("0 0 1 * *", "2026-03-04T12:00:00Z", "2026-03-01T00:00:00Z"),       # metal3 autobump
    ("0 4 * * *", "2026-03-04T03:59:59Z", "2026-03-03T04:00:00Z"),       # metal3 clean-artifactory-cache
    ("15 14-20/5 * * 1-5", "2026-03-07T12:00:00Z", "2026-03-06T19:15:00Z"),
    ("0 9 * * MON", "2026-03-04T00:00:00Z", "2026-03-02T09:00:00Z"),
    ("0 1/6 * * *", "2026-03-04T12:00:00Z", "2026-03-04T07:00:00Z"),
    ("30 0 12 * * *", "2026-03-04T12:00:29Z", "2026-03-03T12:00:30Z"),    # six fields: seconds first
    ("0 0 1 * 1", "2026-03-04T00:00:00Z", "2026-03-02T00:00:00Z"),       # both days restricted: either
    ("@weekly", "2026-03-04T00:00:00Z", "2026-03-01T00:00:00Z"),
])
def test_cron_fire_times_are_robfigs_in_utc(expression, now, latest):
    assert parse_cron(expression).latest(parse_time(now)) == parse_time(latest)


@pytest.mark.parametrize("expression", ["0 0 L * *", "H * * * *", "0 0 * * 7", "1 2 3", "0 0 1 * * * 2026",
                                        "@reboot", "@every soon", "TZ=Europe/Paris 0 * * * *", "0 0 ? * 1#2", ""])
def test_expressions_robfig_rejects_are_rejected(expression):
    with pytest.raises(ValueError):
        parse_cron(expression)


def test_the_four_metal3_periodics_from_the_first_of_a_month(store):
    root = CORPUS / "metal3"
    loaded = load_config(str(root / "config.yaml"), str(root / "jobs"))
    assert len(loaded.jobs.periodics) == 4
    sim = Simulation(store, loaded, {"periodic-stale": timedelta(minutes=3)})
    start = datetime(2026, 3, 1, 0, 0, 1, tzinfo=timezone.utc)       # the first of a month
    sim.run(start, start + timedelta(hours=6))
    assert sim.starts("autobump-prow-images") == [start]                       # 0 0 1 * *
    assert sim.starts("clean-artifactory-cache") == [start + timedelta(hours=4)]  # 0 4 * * *
    stale = sim.starts("periodic-stale")                                        # interval: 1h
    assert stale[0] == start and len(stale) == 6
    assert all(timedelta(hours=1) < b - a <= timedelta(hours=1, minutes=1) for a, b in zip(stale, stale[1:]))


def test_a_sample_of_the_kubernetes_periodics(store):
    root = CORPUS / "kubernetes"
    loaded = load_config(str(root / "config.yaml"), str(root / "jobs"))
    assert loaded.ok and len(loaded.jobs.periodics) > 1300
    sample = random.Random(7).sample(loaded.jobs.periodics, 40)
    loaded.jobs.periodics = sample
    sim = Simulation(store, loaded, {"*": timedelta(minutes=1)})
    start, hours = datetime(2026, 3, 2, 0, 0, 1, tzinfo=timezone.utc), timedelta(hours=6)
    sim.run(start, start + hours)
    for periodic in sample:
        starts = sim.starts(periodic.name)
        schedule = parse_cron(periodic.cron) if periodic.cron else None
        if schedule is not None and schedule.every is None:
            expected, t = [], schedule.next_after(start - timedelta(seconds=2))
            while t < start + hours:
                expected.append(t + timedelta(seconds=1))        # taken by the tick a second later
                t = schedule.next_after(t)
            assert starts == expected, periodic.cron
        else:
            period = (schedule.every if schedule else None) or periodic.interval or periodic.minimum_interval
            assert starts[0] == start, periodic.name              # never run: runs at the first tick
            assert all(period < b - a <= period + timedelta(minutes=2) for a, b in zip(starts, starts[1:]))
            assert len(starts) >= int(hours / (period + timedelta(minutes=2))), periodic.name
