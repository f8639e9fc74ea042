"""Horologium figure: one tick over every periodic of the kubernetes corpus (1,335), in milliseconds and storage
transactions, with a past run behind every periodic, and again in a store where 100 of them have 20 more past
runs each (the reads must not grow); against the floor measured in the same run: the two partition reads the tick cannot
avoid, done with the bare SDK, and the per-periodic read a design that asks each job's history would make.

    python -m bench --only horologium
"""
from __future__ import annotations

import statistics
import time
from datetime import datetime, timedelta, timezone

from bench.common import ROOT

CORPUS = ROOT.parent / "shared" / "corpus" / "prow-configs" / "kubernetes"


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, response) -> None:
        self.n += 1


def _seed(store, periodics, now: datetime, runs: int, *, offset: int) -> None:
    from shared.jobs.create import new_periodic
    from shared.jobs.model import SUCCESS
    from shared.sinker import snowflake_at
    for i, periodic in enumerate(periodics):
        for r in range(runs):
            started = now - timedelta(minutes=30 + r * 60)
            job = new_periodic(periodic, namespace="prow", now=started)
            job.created = str(int(snowflake_at(started)) + offset + i)
            job.set_state(SUCCESS, now=started + timedelta(minutes=5))
            store.create(job)


def _timed(fn, counter: Counter, repeat: int) -> tuple[float, int]:
    times, counts = [], []
    for _ in range(repeat):
        before = counter.n
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        counts.append(counter.n - before)
    return statistics.median(times), max(counts)


def run(repeat: int = 5) -> dict:
    from shared.config.loader import load_config
    from shared.horologium import Horologium
    from shared.jobs.store import ACTIVE, PERIODICS, JobStore
    from shared.storage import StorageClients, StorageSettings
    from tests import azurite as azurite_mod

    loaded = load_config(str(CORPUS / "config.yaml"), str(CORPUS / "jobs"))
    periodics = loaded.jobs.periodics
    azurite = azurite_mod.start()
    try:
        counter = Counter()
        clients = StorageClients(StorageSettings(connection_string=azurite.connection_string),
                                 raw_response_hook=counter)
        now = datetime(2026, 3, 2, 12, 0, 20, tzinfo=timezone.utc)

        def measure(table_name: str, extra_history: int) -> tuple[JobStore, int, float, int]:
            store = JobStore(clients, table=table_name)
            store.ensure_table()
            if extra_history:                          # older runs first: the store indexes them as they come
                _seed(store, periodics[:100], now - timedelta(days=1), extra_history, offset=10_000)
            _seed(store, periodics, now, 1, offset=0)
            horologium = Horologium(store=store, enqueue=lambda job_id: None, config=lambda: loaded)
            first = horologium.tick(now)               # starts what is due at this minute
            tick_s, tick_tx = _timed(lambda: horologium.tick(now), counter, repeat)
            return store, len(first.triggered), tick_s, tick_tx

        store, started, tick_s, tick_tx = measure("benchhorologium", 0)
        _, _, tick_more_s, tick_more_tx = measure("benchhorologiummore", 20)

        table = clients.table().get_table_client("benchhorologium")

        def floor() -> None:
            for partition in (PERIODICS, ACTIVE):
                list(table.query_entities("PartitionKey eq @pk", parameters={"pk": partition}))
        floor_s, floor_tx = _timed(floor, counter, repeat)

        def per_periodic() -> None:
            for periodic in periodics:
                store.history(periodic.name, limit=1)
        naive_s, naive_tx = _timed(per_periodic, counter, 1)
    finally:
        azurite.stop()
    return {"periodics": len(periodics), "started_first_tick": started,
            "tick_ms": tick_s * 1000, "tick_transactions": tick_tx,
            "tick_ms_after_more_history": tick_more_s * 1000, "tick_transactions_after_more_history": tick_more_tx,
            "floor_ms": floor_s * 1000, "floor_transactions": floor_tx, "ratio_to_floor": tick_s / floor_s,
            "per_periodic_history_ms": naive_s * 1000, "per_periodic_history_transactions": naive_tx}


def line(r: dict) -> str:
    return (f"horologium tick over {r['periodics']} periodics {r['tick_ms']:.0f} ms, {r['tick_transactions']} storage "
            f"transactions ({r['tick_transactions_after_more_history']} with 2,000 more past runs behind 100 of them, "
            f"{r['tick_ms_after_more_history']:.0f} ms); floor (the two partition reads, bare SDK) "
            f"{r['floor_ms']:.0f} ms, {r['floor_transactions']} transactions: ratio {r['ratio_to_floor']:.2f}x; "
            f"a history read per periodic {r['per_periodic_history_ms']:.0f} ms, "
            f"{r['per_periodic_history_transactions']} transactions (target < 500 ms)")


if __name__ == "__main__":
    print(line(run()))
