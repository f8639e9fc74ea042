"""dispatch on Azurite with the fake GitHub: each delivery's plugins run once, failures are retried or
deferred, and one plugin's failure never stops the others."""
import logging
import uuid

import pytest

from shared import labels
from shared.events import GenericCommentEvent
from shared.ledger import DONE, RETRY, RUNNING, DeliveryLedger
from shared.plugins.registry import REGISTRY, Plugin, PluginHelp
from shared.storage import StorageClients, StorageSettings
from tests import payloads, webhooks
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"
LABELS_PATH = "/repos/org/repo/issues/*/labels"
COMMENTS_PATH = "/repos/org/repo/issues/*/comments"


@pytest.fixture
def issue(prow):
    prow.gh.add_repo(REPO)
    return prow.gh.add_issue(REPO, author="alice")


def help_comment(number, body="/help"):
    return payloads.issue_comment(REPO, number, body, commenter="bob", issue_author="alice")


# -- once per delivery ---------------------------------------------------------------------------------

def test_a_delivery_posted_twice_acts_once(prow, issue):
    event = help_comment(issue)
    delivery = str(uuid.uuid4())
    prow.post("issue_comment", event, delivery=delivery)
    prow.post("issue_comment", event, delivery=delivery)      # GitHub's redelivery: same X-GitHub-Delivery
    run = prow.settle()

    assert len(run.calls("dispatch")) == 2 and all(i.ok for i in run.calls("dispatch"))
    assert len(prow.gh.comments(REPO, issue)) == 1
    assert prow.gh.count("POST", LABELS_PATH) == 1
    assert prow.record(delivery).state == DONE and prow.record(delivery).attempts == 1


def test_a_queue_message_delivered_twice_acts_once(prow, issue):
    prow.post("issue_comment", help_comment(issue))
    [message] = prow.host.messages("webhook-events")
    prow.host.send("webhook-events", message)               # the same message again (an at-least-once queue)
    prow.settle()
    prow.host.send("webhook-events", message)               # and once more, after it was done
    prow.settle()

    assert len(prow.gh.comments(REPO, issue)) == 1
    assert prow.gh.count("POST", LABELS_PATH) == 1
    assert len(prow.host.history) == 3


def test_every_message_of_a_delivery_is_recorded_once(prow, issue):
    sent = prow.post("issue_comment", help_comment(issue, "just a comment"))
    prow.settle()
    record = prow.record(sent["X-GitHub-Delivery"])
    assert record.state == DONE and record.event == "issue_comment" and record.repo == REPO
    assert record.units == {"help:GenericCommentEvent", "shrug:GenericCommentEvent"}
    assert record.github_requests == 0 and record.outcome.startswith("done")


# -- GitHub failures -----------------------------------------------------------------------------------

def test_a_502_is_retried_by_the_host_and_the_reply_is_not_repeated(prow, issue):
    # The client retries a label request 4 times itself; the 5th failure makes the attempt fail.
    prow.gh.fail("POST", LABELS_PATH, status=502, times=4)
    sent = prow.post("issue_comment", help_comment(issue))
    run = prow.settle()

    assert [i.outcome for i in run.calls("dispatch")] == ["retry", "ok"]
    assert prow.gh.labels(REPO, issue) == [labels.HELP]
    assert len(prow.gh.comments(REPO, issue)) == 1         # the reply of the first attempt is not posted again
    record = prow.record(sent["X-GitHub-Delivery"])
    assert record.state == DONE and record.attempts == 2


def test_a_502_on_the_reply_whose_post_was_applied_is_not_posted_twice(prow, issue):
    prow.gh.fail("POST", COMMENTS_PATH, status=502, applied=True)
    prow.post("issue_comment", help_comment(issue))
    run = prow.settle()

    assert [i.outcome for i in run.calls("dispatch")] == ["retry", "ok"]
    assert len(prow.gh.comments(REPO, issue)) == 1
    assert prow.gh.labels(REPO, issue) == [labels.HELP]


def test_a_rate_limit_defers_the_delivery_and_keeps_what_completed(prow, issue):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [shrug, help]\n")
    prow.gh.fail_rate_limit("POST", COMMENTS_PATH, reset_in=2)      # hits help's reply, after shrug finished
    sent = prow.post("issue_comment", help_comment(issue, "/shrug\n/help"))
    delivery = sent["X-GitHub-Delivery"]

    first = prow.settle()
    assert [i.outcome for i in first.calls("dispatch")] == ["ok"]   # deferred, not failed
    assert first.pending == {"webhook-events": 1}                   # sent again, invisible until the reset
    record = prow.record(delivery)
    assert record.state == RETRY and record.units == {"shrug:GenericCommentEvent"}
    assert "rate limit" in record.outcome
    assert prow.gh.labels(REPO, issue) == [labels.SHRUG]

    second = prow.settle(wait_for_delayed=10)
    assert [i.outcome for i in second.calls("dispatch")] == ["ok"]
    assert sorted(prow.gh.labels(REPO, issue)) == sorted([labels.SHRUG, labels.HELP])
    assert len(prow.gh.comments(REPO, issue)) == 1
    assert prow.gh.count("POST", LABELS_PATH) == 2                  # shrug's label once, help's once
    assert prow.record(delivery).state == DONE


def test_a_404_is_terminal_and_logged_with_delivery_plugin_and_repo(prow, issue, caplog):
    prow.gh.fail_not_found("GET", LABELS_PATH)
    caplog.set_level(logging.INFO, logger="prow.dispatch")
    sent = prow.post("issue_comment", help_comment(issue))
    run = prow.settle()

    assert [i.outcome for i in run.calls("dispatch")] == ["ok"]
    assert prow.gh.comments(REPO, issue) == [] and prow.gh.labels(REPO, issue) == []
    delivery = sent["X-GitHub-Delivery"]
    assert prow.record(delivery).state == DONE
    [line] = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert delivery in line and "plugin help" in line and "org/repo" in line and "404" in line


def test_github_requests_are_counted_and_logged_per_delivery(prow, issue, caplog):
    caplog.set_level(logging.INFO, logger="prow.dispatch")
    sent = prow.post("issue_comment", help_comment(issue))
    prow.settle()
    delivery = sent["X-GitHub-Delivery"]
    requests = len(prow.gh.log)
    assert requests >= 3                                            # labels read, reply, label added
    assert prow.record(delivery).github_requests == requests
    assert any(delivery in r.getMessage() and f"{requests} GitHub request(s)" in r.getMessage()
               for r in caplog.records)


# -- one plugin failing --------------------------------------------------------------------------------

@pytest.fixture
def broken_plugin():
    plugin = Plugin("test-broken", lambda config, repos: PluginHelp("Fails on purpose."))
    calls = []

    @plugin.on(GenericCommentEvent)
    def handle(ctx, event):
        calls.append(ctx.delivery_id)
        raise KeyError("a bug")

    REGISTRY.register(plugin)
    yield calls
    REGISTRY._plugins.pop(plugin.name, None)


def test_a_failing_plugin_does_not_stop_the_others_and_only_it_is_retried(prow, issue, broken_plugin, caplog):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [test-broken, help, shrug]\n")
    sent = prow.post("issue_comment", help_comment(issue))
    run = prow.settle(raise_on_poison=False)

    assert [i.outcome for i in run.calls("dispatch")] == ["retry"] * 4 + ["poisoned"]
    assert len(broken_plugin) == 5
    assert prow.gh.labels(REPO, issue) == [labels.HELP]             # help ran once, in the first attempt
    assert len(prow.gh.comments(REPO, issue)) == 1
    assert prow.gh.count("GET", LABELS_PATH) == 1
    record = prow.record(sent["X-GitHub-Delivery"])
    assert record.state == RETRY and record.attempts == 5
    assert record.units == {"help:GenericCommentEvent", "shrug:GenericCommentEvent"}
    assert "KeyError" in record.failures["test-broken:GenericCommentEvent"]
    assert any("test-broken" in r.getMessage() and sent["X-GitHub-Delivery"] in r.getMessage()
               for r in caplog.records if r.levelno >= logging.ERROR)


def test_plugins_not_enabled_and_unknown_names_are_ignored(prow, issue):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [no-such-plugin, lgtm]\n  other-org:\n    plugins: [help]\n")
    sent = prow.post("issue_comment", help_comment(issue))
    prow.settle()
    assert prow.gh.log == []
    assert prow.record(sent["X-GitHub-Delivery"]).state == DONE


def test_a_message_whose_body_blob_is_gone_is_dropped(prow, issue):
    from azure.storage.blob import BlobServiceClient
    sent = prow.post("issue_comment", help_comment(issue))
    [message] = prow.queued()
    BlobServiceClient.from_connection_string(prow.connection_string).get_blob_client(
        message["container"], message["blob"]).delete_blob()
    run = prow.settle()
    assert [i.outcome for i in run.calls("dispatch")] == ["ok"]
    assert prow.record(sent["X-GitHub-Delivery"]).outcome.startswith("dropped")


# -- the ledger ----------------------------------------------------------------------------------------

@pytest.fixture
def ledger(storage_env, unique_name):
    clock = {"now": 1_000_000.0}
    ledger = DeliveryLedger(StorageClients(StorageSettings(connection_string=storage_env)),
                            table=unique_name("deliveries"), lease_seconds=600, clock=lambda: clock["now"])
    ledger.clock_state = clock
    return ledger


def test_ledger_claim_done_and_busy(ledger):
    first = ledger.claim("d-1", "worker-a", event="issues", repo="o/r")
    assert first.status == "claimed" and first.record.state == RUNNING and first.record.attempts == 1
    busy = ledger.claim("d-1", "worker-b")
    assert busy.status == "busy" and busy.retry_in == 600
    first.record.units.add("help:GenericCommentEvent")
    ledger.finish(first.record, "done")
    again = ledger.claim("d-1", "worker-b")
    assert again.status == "done" and again.record.units == {"help:GenericCommentEvent"}


def test_ledger_takes_over_a_lapsed_claim_and_the_old_owner_cannot_write(ledger):
    from shared.ledger import LostClaim
    crashed = ledger.claim("d-2", "worker-a").record
    ledger.clock_state["now"] += 601
    taken = ledger.claim("d-2", "worker-b")
    assert taken.status == "claimed" and taken.record.attempts == 2 and taken.record.owner == "worker-b"
    with pytest.raises(LostClaim):
        ledger.finish(crashed, "done")
    assert ledger.get("d-2").owner == "worker-b"


def test_ledger_released_delivery_is_claimed_again_with_its_progress(ledger):
    record = ledger.claim("d-3", "worker-a").record
    record.units.add("shrug:GenericCommentEvent")
    record.steps["help:GenericCommentEvent"] = ["comment"]
    record.forwarded.add("needs-rebase")
    ledger.release(record, "deferred")
    again = ledger.claim("d-3", "worker-b")
    assert again.status == "claimed" and again.record.attempts == 2
    assert again.record.units == {"shrug:GenericCommentEvent"}
    assert again.record.steps == {"help:GenericCommentEvent": ["comment"]}
    assert again.record.forwarded == {"needs-rebase"}


def test_ledger_two_racing_takeovers_one_wins(ledger):
    record = ledger.claim("d-4", "worker-a").record
    ledger.release(record, "failed")
    import threading
    results = []
    barrier = threading.Barrier(8)

    def take(i):
        barrier.wait()
        results.append(ledger.claim("d-4", f"worker-{i}").status)
    threads = [threading.Thread(target=take, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("claimed") == 1 and results.count("busy") == 7


def test_dispatch_of_a_claimed_delivery_comes_back_after_the_lease(prow, issue):
    """A message for a delivery another invocation holds is sent again for when that claim lapses."""
    sent = prow.post("issue_comment", help_comment(issue))
    delivery = sent["X-GitHub-Delivery"]
    from shared.storage import default_clients
    DeliveryLedger(default_clients()).claim(delivery, "someone-else")
    run = prow.settle()
    assert [i.outcome for i in run.calls("dispatch")] == ["ok"]
    assert run.pending == {"webhook-events": 1}          # back in ~10 minutes
    assert prow.gh.log == []


def test_an_unreadable_message_is_dropped_without_retries(prow, caplog):
    prow.host.send("webhook-events", "not json")
    run = prow.settle()
    assert [i.outcome for i in run.calls("dispatch")] == ["ok"]
    assert any("unreadable" in r.getMessage() for r in caplog.records)


def test_every_example_event_goes_through_hook_and_dispatch(prow):
    """Each @octokit/webhooks-examples payload, with every implemented plugin enabled for its repository."""
    from shared.plugins import load_plugins
    names = load_plugins().names()
    repos = sorted({p["repository"]["full_name"] for _, _, p in webhooks.examples()
                    if isinstance(p.get("repository"), dict)})
    orgs = sorted({r.split("/")[0] for r in repos})
    prow.plugins_yaml("plugins:\n" + "".join(f"  {org}:\n    plugins: [{', '.join(names)}]\n" for org in orgs))
    for repo in repos:
        prow.gh.add_repo(repo)
    deliveries = [prow.post(name, payload)["X-GitHub-Delivery"] for name, _, payload in webhooks.examples()
                  if name != "ping"]                        # hook answers pings itself
    run = prow.settle(timeout=300)
    assert len(run.calls("dispatch")) == len(deliveries) > 300
    assert all(i.outcome == "ok" for i in run.calls("dispatch")), run.summary()
    assert {prow.record(d).state for d in deliveries} == {DONE}


def test_worker_indexes_dispatch_and_plugin_help_with_the_contracted_bindings():
    import json

    from tests.test_indexing import ROOT, index
    result = index(ROOT)
    assert result.returncode == 0, result.stderr
    functions = {f["name"]: f for f in json.loads(result.stdout)}
    assert functions["dispatch"]["bindings"] == [{"direction": "IN", "type": "queueTrigger", "name": "msg",
                                                  "queueName": "webhook-events", "connection": "PROW_STORAGE"}]
    [trigger] = [b for b in functions["plugin_help"]["bindings"] if b["direction"] == "IN"]
    assert trigger == {"direction": "IN", "type": "httpTrigger", "name": "req", "authLevel": "ANONYMOUS",
                       "route": "plugin-help"}
