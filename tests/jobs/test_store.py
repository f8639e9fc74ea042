"""The job store on Azurite: records, the three indexed reads, ETag races, build ids, limits."""
import threading

import pytest

from shared.jobs.create import new_presubmit, pull_refs
from shared.jobs.limits import ConcurrencySlots, Limit, QueueUndefined, limits_for
from shared.jobs.model import ERROR, FAILURE, PENDING, SUCCESS, ProwJob, TRIGGERED
from shared.jobs.store import ACTIVE, JobConflict, JobExists, JobStore, history_key
from shared.storage import StorageClients, StorageSettings


@pytest.fixture
def store(azurite, unique_name):
    s = JobStore(StorageClients(StorageSettings(connection_string=azurite.connection_string)),
                 table=unique_name("jobs"))
    return s


def job(name="unit", *, pull=7, repo="org/repo", max_concurrency=0, queue=""):
    org, _, r = repo.partition("/")
    spec = {"type": "presubmit", "agent": "kubernetes", "cluster": "default", "namespace": "test-pods",
            "job": name, "refs": pull_refs(org, r, base_ref="main", base_sha="b" * 40, number=pull, sha="a" * 40)}
    if max_concurrency:
        spec["max_concurrency"] = max_concurrency
    if queue:
        spec["job_queue_name"] = queue
    from shared.jobs.create import new_prowjob
    return new_prowjob(spec)


def test_create_then_read_back_prows_json(store):
    created = store.create(job())
    read = store.get(created.name)
    assert read.to_dict() == created.to_dict() and read.etag
    with pytest.raises(JobExists):
        store.create(ProwJob.from_dict(created.to_dict(), created=created.created))


def test_a_large_pod_spec_is_split_over_properties(store):
    big = job()
    big.spec["pod_spec"] = {"containers": [{"image": "x", "args": ["y" * 100_000]}]}
    store.create(big)
    assert store.get(big.name).spec["pod_spec"]["containers"][0]["args"][0] == "y" * 100_000


def test_history_is_newest_first_and_only_that_job(store):
    made = [store.create(job("unit", pull=n)) for n in range(5)]
    store.create(job("lint"))
    assert [j.name for j in store.history("unit")] == [j.name for j in reversed(made)]
    assert [j.name for j in store.history("unit", limit=2)] == [made[4].name, made[3].name]


def test_jobs_of_one_pull_request(store):
    a, b = store.create(job("unit", pull=1)), store.create(job("lint", pull=1))
    store.create(job("unit", pull=2))
    store.create(job("unit", pull=1, repo="org/other"))
    assert {j.name for j in store.for_pull("org/repo", 1)} == {a.name, b.name}


def test_unfinished_drops_jobs_as_they_complete(store):
    jobs = [store.create(job(pull=n)) for n in range(3)]
    assert [j.name for j in store.unfinished()] == [j.name for j in jobs]      # oldest first
    done = store.get(jobs[1].name)
    done.set_state(SUCCESS, "Job succeeded.")
    store.save(done)
    assert [j.name for j in store.unfinished()] == [jobs[0].name, jobs[2].name]
    pointers = list(store._query(ACTIVE))
    assert jobs[1].name not in {p["Id"] for p in pointers}


def test_a_stale_active_pointer_is_skipped_and_removed(store):
    a = store.create(job())
    finished = store.get(a.name)
    finished.set_state(FAILURE, "Job failed.")
    store.table().update_entity(store._record_entity(finished))        # as if we crashed before the pointer delete
    assert store.unfinished() == []
    assert list(store._query(ACTIVE)) == []


def test_two_writers_racing_on_one_version_cannot_both_win(store):
    created = store.create(job())
    first, second = store.get(created.name), store.get(created.name)
    first.set_state(PENDING, "Job triggered.")
    second.set_state(ERROR, "Terminal error: something.")
    store.save(first)
    with pytest.raises(JobConflict):
        store.save(second)
    assert store.get(created.name).state == PENDING


def test_threads_racing_through_modify_apply_each_change_once(store):
    created = store.create(job())
    barrier = threading.Barrier(8)
    winners = []

    def claim(n):
        barrier.wait()

        def change(current):
            if current.state != TRIGGERED:
                return False
            current.set_state(PENDING, f"claimed by {n}")
            return True
        result = store.modify(created.name, change)
        if result.description == f"claimed by {n}":
            winners.append(n)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 1
    assert store.get(created.name).description == f"claimed by {winners[0]}"


def test_build_ids_are_reserved_per_job_name(store):
    j = store.create(job())
    draws = iter(["100", "100", "101"])
    assert store.reserve_build_id(j, draw=lambda: next(draws)) == "100"
    assert store.reserve_build_id(j, draw=lambda: next(draws)) == "101"          # 100 was taken
    other = store.create(job("lint"))
    assert store.reserve_build_id(other, draw=lambda: "100") == "100"             # other job names are free


def test_slots_admit_up_to_capacity_and_free_when_jobs_complete(store):
    slots = ConcurrencySlots(store)
    limit = Limit("job|unit", 2, "max_concurrency of unit (2)")
    jobs = [store.create(job()) for _ in range(3)]
    assert slots.admit(jobs[0], [limit]).admitted
    assert slots.admit(jobs[0], [limit]).admitted              # again: idempotent, no second slot
    assert slots.admit(jobs[1], [limit]).admitted
    refused = slots.admit(jobs[2], [limit])
    assert not refused.admitted and "max_concurrency of unit" in refused.reason
    done = store.get(jobs[0].name)
    done.set_state(SUCCESS, "Job succeeded.")
    store.save(done)
    assert slots.admit(jobs[2], [limit]).admitted
    assert sorted(slots.holders(limit)) == sorted([jobs[1].name, jobs[2].name])


def test_slots_are_all_or_nothing_and_one_racer_gets_the_last(store):
    slots = ConcurrencySlots(store)
    wide, narrow = Limit("global", 10, "plank.max_concurrency (10)"), Limit("queue|q", 1, "job queue q (1)")
    racers = [store.create(job()) for _ in range(6)]
    barrier = threading.Barrier(len(racers))
    results = {}

    def admit(j):
        barrier.wait()
        results[j.name] = slots.admit(j, [wide, narrow]).admitted

    threads = [threading.Thread(target=admit, args=(j,)) for j in racers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [name for name, ok in results.items() if ok]
    assert len(winners) == 1
    assert slots.holders(narrow) == winners and slots.holders(wide) == winners


def test_limits_for_reads_plank_and_the_job():
    j = job(max_concurrency=3, queue="gpu")
    plank = {"max_concurrency": 50, "job_queue_capacities": {"gpu": 2, "free": -1}}
    assert [(l.row, l.capacity) for l in limits_for(j, plank)] == [("global", 50), ("job|unit", 3), ("queue|gpu", 2)]
    assert limits_for(job(queue="free"), plank) == [limits_for(job(), plank)[0]]   # negative: unlimited
    with pytest.raises(QueueUndefined):
        limits_for(job(queue="nope"), plank)
    assert limits_for(job(), None) == []


def test_keys_escape_what_tables_forbid():
    assert "/" not in history_key("a/b#c?d\\e")
