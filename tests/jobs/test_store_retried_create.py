"""A job created again under the same id (a delivery retried after a crash: JobStarter derives the
id from the delivery, but a new attempt builds the record anew, with a new creation snowflake) leaves
a second set of pointers: every read still sees the job once (the fix of 44b8c87 in shared/jobs/store.py)."""
import pytest

from shared.jobs.model import SUCCESS, ProwJob
from shared.jobs.start import JobStarter, event_job_id
from shared.jobs.store import ACTIVE, JobExists, JobStore, history_key, pull_key
from shared.storage import StorageClients, StorageSettings
from tests.jobs.test_store import job


@pytest.fixture
def store(azurite, unique_name):
    return JobStore(StorageClients(StorageSettings(connection_string=azurite.connection_string)),
                    table=unique_name("jobs"))


def rebuilt(original: ProwJob) -> ProwJob:
    """The record a second attempt builds: same id and spec, a later creation snowflake."""
    again = job("unit", pull=7)
    again.name = original.name
    assert again.created > original.created
    return again


def ids(pointers) -> list[str]:
    return [p["Id"] for p in pointers]


def test_a_second_create_of_one_id_leaves_pointers_that_no_read_counts_twice(store):
    first = store.create(job("unit", pull=7))
    with pytest.raises(JobExists):
        store.create(rebuilt(first))
    assert ids(store._query(pull_key("org/repo", 7))) == [first.name, first.name]      # two pointers ...
    assert [j.name for j in store.for_pull("org/repo", 7)] == [first.name]              # ... one job
    assert [j.name for j in store.history("unit")] == [first.name]
    assert [j.name for j in store.unfinished()] == [first.name]
    assert ids(store._query(ACTIVE)) == [first.name]          # the stray active pointer is gone after one read


def test_a_create_cut_after_its_pointers_then_retried_is_one_unfinished_job(store, monkeypatch):
    """The first attempt wrote its pointers and died before the record; the retry wrote its own and the record."""
    first = job("unit", pull=8)
    table = store.table()
    real = table.create_entity
    monkeypatch.setattr(table, "create_entity", lambda entity: (_ for _ in ()).throw(TimeoutError("cut")))
    with pytest.raises(TimeoutError):
        store.create(first)
    monkeypatch.setattr(table, "create_entity", real)
    assert store.find(first.name) is None and store.for_pull("org/repo", 8) == []     # pointers alone: no job
    retry = rebuilt(first)
    store.create(retry)
    assert [j.name for j in store.for_pull("org/repo", 8)] == [retry.name]
    assert [j.created for j in store.unfinished()] == [retry.created]
    assert ids(store._query(ACTIVE)) == [retry.name]
    done = store.get(retry.name)
    done.set_state(SUCCESS, "Job succeeded.")
    store.save(done)
    assert store.unfinished() == [] and ids(store._query(ACTIVE)) == []
    assert ids(store._query(history_key("unit"))) == [retry.name, retry.name]


def test_the_starter_run_twice_for_one_delivery_makes_one_record(store):
    class Queue:
        def __init__(self):
            self.sent = []

        def enqueue(self, job_id):
            self.sent.append(job_id)

    queue = Queue()
    starter = JobStarter(store, queue, namespace="prow")
    record = job("unit", pull=9)
    record.name = event_job_id("delivery-1", "unit")
    starter.start(record)
    starter.start(rebuilt(record))
    assert [j.name for j in store.for_pull("org/repo", 9)] == [record.name]
    assert queue.sent == [record.name, record.name]                # queued again: launch ignores a started job
