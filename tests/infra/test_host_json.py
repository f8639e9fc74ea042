"""host.json: the values the code mirrors, and the logging the runbook (README) relies on."""
from __future__ import annotations

import json

from shared import dispatch, ledger
from tests.host import parse_timespan
from tests.infra.bicep import ROOT

HOST = json.loads((ROOT / "host.json").read_text())


def test_poison_threshold_and_timeout_match_the_code():
    queues = HOST["extensions"]["queues"]
    assert queues["maxDequeueCount"] == dispatch.MAX_DEQUEUE_COUNT
    assert parse_timespan(HOST["functionTimeout"]) <= ledger.DEFAULT_LEASE_SECONDS
    assert queues["messageEncoding"] == "base64"  # what shared.storage.queue_client sends


def test_the_runbook_lines_are_kept_and_never_sampled():
    levels = HOST["logging"]["logLevel"]
    assert levels["Function"] == "Information"          # the app's own lines (Function.<name>.User)
    assert levels["Host.Results"] == "Information"      # one request row per invocation, with its outcome
    sampling = HOST["logging"]["applicationInsights"]["samplingSettings"]
    assert {"Request", "Exception", "Trace"} <= set(sampling["excludedTypes"].split(";"))
