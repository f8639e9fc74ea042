"""From a webhook to the pod create call (the jobs issue), in the harness, excluding queue polling.

A member opens a pull request on metal3-io/baremetal-operator with metal3's real config.yaml and job
files (plugins: trigger). Timed: the `hook` call, `dispatch_message` for its delivery (trigger selects the
presubmits, writes their records and queues them) and `launch_message` for the first queued job, which
ends with the pod create call on the fake Kubernetes API. Not timed: taking the messages off the queues
(the host's polling). Baseline in the same run: the `hook` call alone for the same delivery shape.
"""
from __future__ import annotations

import base64
import os
import tempfile
import time
from pathlib import Path

from bench.app import App
from bench.common import summary
from tests import payloads

METAL3 = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "prow-configs" / "metal3"
REPO = "metal3-io/baremetal-operator"
PLUGINS = "plugins:\n  metal3-io:\n    plugins: [trigger]\ntriggers:\n- repos: [metal3-io]\n"


def webhook_to_pod(conn: str, runs: int) -> dict:
    from azure.storage.queue import QueueClient

    from shared.dispatch import dispatch_message
    from shared.launcher import launch_message
    from tests.fakes.github import FakeGitHub
    from tests.fakes.kube import FakeKube, write_kubeconfig

    with FakeGitHub() as gh, FakeKube(token="k") as kube, tempfile.TemporaryDirectory() as tmp:
        plugins = Path(tmp) / "plugins.yaml"
        plugins.write_text(PLUGINS)
        app = App(conn, gh, Path(tmp), config_path=METAL3 / "config.yaml", plugins_path=plugins,
                  job_config=METAL3 / "jobs")
        os.environ["PROW_KUBECONFIG"] = str(write_kubeconfig(Path(tmp) / "kubeconfig", {"default": kube}))
        os.environ.setdefault("PROW_ARTIFACTS_CLIENT_ID", "11111111-2222-3333-4444-555555555555")
        jobs_queue = QueueClient.from_connection_string(conn, "prowjobs")
        try:
            jobs_queue.create_queue()
        except Exception:
            jobs_queue.clear_messages()
        gh.add_repo(REPO)
        gh.add_org_member("metal3-io", "member")

        def one() -> tuple[float, float, float, int]:
            number = gh.add_pull(REPO, author="member", files=["controllers/host.go"], title="Fix hosts")
            pr = gh.pull(REPO, number)
            event = payloads.pull_request_event(REPO, number, action="opened", author="member",
                                                head_sha=pr.head_sha, base_sha=pr.base_sha, title="Fix hosts")
            event["pull_request"]["head"]["ref"] = pr.head_ref
            pods_before = len(kube.pods())
            started = time.perf_counter()
            app.post("pull_request", event)
            hooked = time.perf_counter()
            texts = app.take_messages()                      # polling: not timed
            t1 = time.perf_counter()
            for text in texts:
                assert dispatch_message(text).outcome == "done"
            dispatched = time.perf_counter()
            jobs = [m for m in jobs_queue.receive_messages(max_messages=32, messages_per_page=32)]
            assert jobs, "trigger queued no job"
            t2 = time.perf_counter()
            launch_message(base64.b64decode(jobs[0].content).decode())
            launched = time.perf_counter()
            assert len(kube.pods()) == pods_before + 1
            for m in jobs:
                jobs_queue.delete_message(m)
            return hooked - started, dispatched - t1, launched - t2, len(jobs)

        def hook_only() -> float:
            number = gh.add_pull(REPO, author="member", files=["controllers/host.go"], title="Fix hosts")
            pr = gh.pull(REPO, number)
            event = payloads.pull_request_event(REPO, number, action="opened", author="member",
                                                head_sha=pr.head_sha, base_sha=pr.base_sha, title="Fix hosts")
            started = time.perf_counter()
            app.post("pull_request", event)
            elapsed = time.perf_counter() - started
            app.take_messages()
            return elapsed

        one(), hook_only()                                   # warm imports, config and connections
        hook_t, dispatch_t, launch_t, totals, floor = [], [], [], [], []
        queued = 0
        for _ in range(runs):
            h, d, launch, queued = one()
            hook_t.append(h), dispatch_t.append(d), launch_t.append(launch), totals.append(h + d + launch)
            floor.append(hook_only())
        total, base = summary(totals), summary(floor)
        return {"runs": runs, "jobs_queued_per_pr": queued, "total": total, "hook": summary(hook_t),
                "dispatch": summary(dispatch_t), "launch_first": summary(launch_t), "hook_only": base,
                "ratio_to_hook_only": total["median"] / base["median"]}


def lines(r: dict) -> list[str]:
    ms = lambda s: f"{s * 1000:.0f} ms"
    return [f"webhook to pod create (metal3 PR opened, {r['jobs_queued_per_pr']} jobs queued): median "
            f"{ms(r['total']['median'])} (hook {ms(r['hook']['median'])}, dispatch+trigger "
            f"{ms(r['dispatch']['median'])}, launch of the first job {ms(r['launch_first']['median'])}), p99 "
            f"{ms(r['total']['p99'])}, excluding queue polling; {r['ratio_to_hook_only']:.1f}x the hook alone"]
