"""tests/host.py plays the Functions host for queue and timer functions against a real Azurite."""
from __future__ import annotations

import base64
import json
import threading
import time
import typing
import uuid
from pathlib import Path

import azure.functions as func
import pytest
from azure.storage.blob import BlobServiceClient

from tests.host import FunctionsHost, HostConfigError, NotSettled, PoisonedMessages
from tests.test_indexing import index

ROOT = Path(__file__).resolve().parent.parent


class Toy:
    """State of one toy app: unique queue names, and what its functions saw."""

    def __init__(self) -> None:
        uid = uuid.uuid4().hex[:12]
        self.inbox = f"toy-{uid}-inbox"
        self.first = f"toy-{uid}-first"
        self.second = f"toy-{uid}-second"
        self.slow = f"toy-{uid}-slow"
        self.echo = f"toy-{uid}-echo"
        self.container = f"toy-{uid}"
        self.seen: list[tuple[str, str, int]] = []       # (function, body, dequeue_count)
        self.ticks: list[bool] = []
        self.tick_fails = False
        self.lock = threading.Lock()
        self.running = 0
        self.max_running = 0
        self.threads: set[str] = set()
        self.host: FunctionsHost | None = None


def make_app(toy: Toy) -> func.FunctionApp:
    """The toy app: bodies are JSON; {"fail": n} fails while dequeue_count <= n ("always": forever)."""
    app = func.FunctionApp()

    @app.function_name("record")
    @app.queue_trigger(arg_name="msg", queue_name=toy.inbox, connection="PROW_STORAGE")
    def record(msg: func.QueueMessage) -> None:
        body = msg.get_body().decode()
        toy.seen.append(("record", body, msg.dequeue_count))
        order = json.loads(body)
        fail = order.get("fail", 0)
        if fail == "always" or msg.dequeue_count <= fail:
            raise RuntimeError(f"told to fail: {body}")
        if "defer" in order:        # defer work the way the app's producers do: base64, visibility delay
            from shared.storage import default_clients
            default_clients().queue_client(toy.inbox).send_message(
                json.dumps({"deferred": True}), visibility_timeout=order["defer"])

    @app.function_name("first")
    @app.queue_trigger(arg_name="msg", queue_name=toy.first, connection="PROW_STORAGE")
    @app.queue_output(arg_name="out", queue_name=toy.second, connection="PROW_STORAGE")
    def first(msg: func.QueueMessage, out: func.Out[typing.List[str]]) -> None:  # list[str]: the worker refuses it
        n = json.loads(msg.get_body())["n"]
        toy.seen.append(("first", msg.get_body().decode(), msg.dequeue_count))
        out.set([json.dumps({"part": i, "of": n}) for i in range(n)])

    @app.function_name("second")
    @app.queue_trigger(arg_name="msg", queue_name=toy.second, connection="PROW_STORAGE")
    @app.blob_output(arg_name="result", path=toy.container + "/{part}-of-{of}.txt", connection="PROW_STORAGE")
    def second(msg: func.QueueMessage, result: func.Out[str], context: func.Context) -> None:
        toy.seen.append(("second", msg.get_body().decode(), msg.dequeue_count))
        result.set(f"{context.function_name} done {msg.id}")

    @app.function_name("slow")
    @app.queue_trigger(arg_name="msg", queue_name=toy.slow, connection="PROW_STORAGE")
    def slow(msg: func.QueueMessage) -> None:
        with toy.lock:
            toy.running += 1
            toy.max_running = max(toy.max_running, toy.running)
            toy.threads.add(threading.current_thread().name)
        time.sleep(0.25)
        with toy.lock:
            toy.running -= 1
            toy.seen.append(("slow", msg.get_body().decode(), msg.dequeue_count))

    @app.function_name("echo")
    @app.queue_trigger(arg_name="msg", queue_name=toy.echo, connection="PROW_STORAGE")
    @app.queue_output(arg_name="$return", queue_name=toy.echo, connection="PROW_STORAGE")
    async def echo(msg: func.QueueMessage):  # -> List[str] or Optional[str]: the worker refuses both
        if msg.get_body() == b"none":
            return None
        left = int(msg.get_body())
        toy.seen.append(("echo", str(left), msg.dequeue_count))
        return [str(left - 1)] if left else []   # None would fail: the worker cannot encode it

    @app.function_name("tick")
    @app.timer_trigger(schedule="0 */5 * * * *", arg_name="timer", run_on_startup=False, use_monitor=False)
    @app.queue_output(arg_name="out", queue_name=toy.inbox, connection="PROW_STORAGE")
    def tick(timer: func.TimerRequest, out: func.Out[str]) -> None:
        toy.ticks.append(timer.past_due)
        if toy.tick_fails:
            raise ValueError("tick failed")
        out.set(json.dumps({"from": "tick", "past_due": timer.past_due}))

    return app


@pytest.fixture
def toy(storage_env):
    t = Toy()
    functions = {f.get_function_name(): f for f in make_app(t).get_functions()}
    t.host = FunctionsHost(functions, storage_env)
    return t


def test_the_real_worker_indexes_the_toy_app(tmp_path):
    (tmp_path / "function_app.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.test_host import Toy, make_app\n"
        "app = make_app(Toy())\n")
    result = index(tmp_path)
    assert result.returncode == 0, result.stderr
    functions = {f["name"]: f for f in json.loads(result.stdout)}
    assert sorted(functions) == ["echo", "first", "record", "second", "slow", "tick"]
    assert [b["type"] for b in functions["first"]["bindings"]] == ["queue", "queueTrigger"]


def test_discovers_queue_and_timer_functions_and_host_json(toy):
    host = toy.host
    assert sorted(host.queue_functions) == ["echo", "first", "record", "second", "slow"]
    assert host.timer_functions == ["tick"]
    assert host.functions["record"].queue == toy.inbox
    assert host.queue_settings.max_dequeue_count == 5 and host.queue_settings.message_encoding == "base64"
    assert host.queue_settings.batch_size == 16 and host.queue_settings.visibility_timeout == 30


def test_delivers_a_message_with_its_body_and_dequeue_count_one(toy):
    sent = toy.host.send(toy.inbox, '{"hello": "world"}')
    stored = toy.host.queue_client(toy.inbox).peek_messages()[0].content
    assert base64.b64decode(stored) == b'{"hello": "world"}'       # base64, as the host expects

    run = toy.host.settle()
    assert toy.seen == [("record", '{"hello": "world"}', 1)]
    [inv] = run.calls("record")
    assert (inv.message_id, inv.dequeue_count, inv.outcome, inv.body) == (sent.id, 1, "ok", b'{"hello": "world"}')
    assert toy.host.count(toy.inbox) == 0 and run.poisoned == [] and run.pending == {}


def test_a_message_failing_twice_is_retried_and_then_deleted(toy):
    toy.host.send(toy.inbox, '{"fail": 2}')
    run = toy.host.settle()
    assert [c for _, _, c in toy.seen] == [1, 2, 3]
    assert [i.outcome for i in run] == ["retry", "retry", "ok"]
    assert all(isinstance(i.exception, RuntimeError) for i in run.errors) and len(run.errors) == 2
    assert toy.host.count(toy.inbox) == 0 and toy.host.poison(toy.inbox) == []


def test_an_always_failing_message_ends_in_the_poison_queue(toy):
    toy.host.send(toy.inbox, '{"fail": "always"}')
    with pytest.raises(PoisonedMessages) as raised:
        toy.host.settle()
    run = raised.value.settlement
    assert [c for _, _, c in toy.seen] == [1, 2, 3, 4, 5]          # maxDequeueCount from host.json
    assert [i.outcome for i in run][-1] == "poisoned"
    assert "told to fail" in str(raised.value) and toy.inbox + "-poison" in str(raised.value)
    [p] = run.poisoned
    assert (p.reason, p.dequeue_count, p.function) == ("max-dequeue-count", 5, "record")
    assert toy.host.poison(toy.inbox) == ['{"fail": "always"}']       # same content
    assert toy.host.count(toy.inbox) == 0


def test_undecodable_or_overdequeued_messages_are_poisoned_without_running(toy):
    raw = toy.host.queue_client(toy.inbox)
    raw.create_queue()
    raw.send_message("not base64 {")
    run = toy.host.settle(raise_on_poison=False)
    assert toy.seen == [] and [p.reason for p in run.poisoned] == ["undecodable"]
    assert [m.content for m in toy.host.queue_client(toy.inbox + "-poison").peek_messages()] == ["not base64 {"]

    toy.host.send(toy.inbox, '{"n": 1}')
    for _ in range(5):   # another consumer leased it 5 times and crashed (update keeps the count)
        [m] = raw.receive_messages(visibility_timeout=30)
        raw.update_message(m, visibility_timeout=0)
    run = toy.host.settle(raise_on_poison=False)
    assert toy.seen == [] and [(p.reason, p.dequeue_count) for p in run.poisoned] == [("dequeue-count-exceeded", 6)]


def test_output_bindings_chain_to_completion(toy, storage_env):
    toy.host.send(toy.first, '{"n": 3}')
    run = toy.host.settle()
    assert [name for name, _, _ in toy.seen] == ["first", "second", "second", "second"]
    assert sorted(json.loads(b)["part"] for name, b, _ in toy.seen if name == "second") == [0, 1, 2]
    assert run.rounds == 2 and all(i.ok for i in run)
    blobs = BlobServiceClient.from_connection_string(storage_env).get_container_client(toy.container)
    assert sorted(blobs.list_blob_names()) == ["0-of-3.txt", "1-of-3.txt", "2-of-3.txt"]
    ids = {i.message_id for i in run.calls("second")}
    texts = {blobs.download_blob(n).readall().decode() for n in blobs.list_blob_names()}
    assert texts == {f"second done {i}" for i in ids}


def test_delayed_messages_are_waited_for_only_when_asked(toy):
    toy.host.send(toy.inbox, '{"defer": 2}')
    run = toy.host.settle()
    assert toy.seen == [("record", '{"defer": 2}', 1)]
    assert run.pending == {toy.inbox: 1}                         # the deferred message, not visible yet

    started = time.monotonic()
    run = toy.host.settle(wait_for_delayed=5)
    assert toy.seen[-1] == ("record", '{"deferred": true}', 1) and len(toy.seen) == 2
    assert 1 < time.monotonic() - started < 5 and run.pending == {}


def test_parallel_runs_a_batch_concurrently(toy):
    for i in range(4):
        toy.host.send(toy.slow, str(i))
    started = time.monotonic()
    run = toy.host.settle(parallel=True)
    assert time.monotonic() - started < 0.9                        # 4 x 0.25 s sequentially
    assert toy.max_running == 4 and len(toy.threads) == 4 and len(run) == 4 and run.rounds == 1

    toy.max_running = 0
    for i in range(2):
        toy.host.send(toy.slow, str(i))
    toy.host.settle()
    assert toy.max_running == 1                                    # default: one at a time


def test_timers_run_on_demand_and_their_outputs_are_delivered(toy):
    inv = toy.host.run_timer("tick", past_due=True)
    assert inv.ok and toy.ticks == [True]
    assert toy.host.messages(toy.inbox) == ['{"from": "tick", "past_due": true}']
    toy.host.settle(functions=["record"])
    assert toy.seen == [("record", '{"from": "tick", "past_due": true}', 1)]


def test_async_functions_and_return_outputs_and_the_round_limit(toy):
    toy.host.send(toy.echo, "2")
    run = toy.host.settle()
    assert [b for name, b, _ in toy.seen] == ["2", "1", "0"] and run.rounds == 3
    assert [i.outputs for i in run.calls("echo")] == [{"$return": ["1"]}, {"$return": ["0"]}, {"$return": []}]

    toy.host.send(toy.echo, "1000")
    with pytest.raises(NotSettled, match="not settled after 3 rounds"):
        toy.host.settle(max_rounds=3)
    assert toy.host.count(toy.echo) == 1          # the leased message was given back
    toy.host.queue_client(toy.echo).clear_messages()

    toy.host.send(toy.echo, "none")               # the worker cannot encode a None $return: a failure
    run = toy.host.settle(raise_on_poison=False)
    assert len(run) == 5 and "unable to encode outgoing TypedData" in str(run.errors[0].exception)


def test_a_failing_timer_raises_unless_told_not_to(toy):
    toy.tick_fails = True
    with pytest.raises(ValueError, match="tick failed"):
        toy.host.run_timer("tick")
    inv = toy.host.run_timer("tick", raise_errors=False)
    assert inv.outcome == "error" and isinstance(inv.exception, ValueError)
    assert toy.host.messages(toy.inbox) == []                      # no outputs from a failed run


def test_bindings_it_cannot_play_fail_at_construction(storage_env):
    app = func.FunctionApp()

    @app.queue_trigger(arg_name="msg", queue_name="toy-table", connection="PROW_STORAGE")
    @app.table_input(arg_name="row", table_name="t", connection="PROW_STORAGE")
    def uses_table(msg: func.QueueMessage, row: str) -> None: ...

    with pytest.raises(HostConfigError, match="table"):
        FunctionsHost(app.get_functions(), storage_env)
