"""GitHub requests per Tide sync: the metal3 config (one query over 18 repos) with N open PRs, against the
fake GitHub through the one GitHub client, cold (fresh client and ETag cache) and warm (the next sync).

Prow, counted from its source without its cache: 2 GraphQL searches (pool query + status loop) and 18 REST
reads per warm sync (one branch ref per pool), about 86 REST reads cold (refs, repo settings, changed files).
Reads and writes are counted apart: writes (statuses, merges) depend on what changed, not on the design.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

METAL3 = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "prow-configs" / "metal3"
PROW_WARM, PROW_COLD = 20, 88


class _Store:
    def __init__(self):
        self.jobs = {}

    def for_pull(self, repo, number):
        return [j for j in self.jobs.values() if j.repo == repo and number in j.pull_numbers]

    def create(self, job):
        self.jobs[job.name] = job
        return job


class _Queue:
    def enqueue(self, job_id, delay=0):
        pass


class _State:
    def failed_merges(self):
        return {}

    def remember_failed(self, *a):
        pass

    def forget_failed(self, *a):
        pass

    def renew(self, **kw):
        pass

    def load_history(self):
        return {}

    def publish(self, *a):
        pass


def requests_per_sync(prs: int) -> dict:
    from shared.config import load_config
    from shared.github.client import GitHubClient
    from shared.github.etag_cache import MemoryETagCache
    from shared.tide.config import TideConfig
    from shared.tide.sync import Syncer
    from tests.fakes.github import FakeGitHub

    config = load_config(str(METAL3 / "config.yaml"), str(METAL3 / "jobs"))
    repos = list(TideConfig.from_prow(config.prow.raw).queries[0].repos)
    out = {}
    with FakeGitHub() as gh:
        for repo in repos:
            gh.add_repo(repo)
        for i in range(prs):
            labels = ["lgtm", "approved"] if i % 3 else ["lgtm"]
            gh.add_pull(repos[i % len(repos)], labels=labels, files=["main.go"])
        client = GitHubClient(base_url=gh.url, token=gh.token, cache=MemoryETagCache(), backoff=())
        store = _Store()
        for phase in ("cold", "warm"):
            gh.clear_log()
            with client.for_event(f"bench-tide-{phase}") as session:
                Syncer(config=config, gh=session, store=store, queue=_Queue(), state=_State(),
                       sleep=lambda s: None).run()
            kinds = Counter()
            for r in gh.log:
                if r.path == "/graphql":
                    kinds["graphql"] += 1
                elif r.method == "GET":
                    kinds["rest_reads"] += 1
                else:
                    kinds["writes"] += 1
            out[phase] = {"graphql": kinds["graphql"], "rest_reads": kinds["rest_reads"], "writes": kinds["writes"],
                          "reads": kinds["graphql"] + kinds["rest_reads"]}
    return out


def run() -> dict:
    return {"prs_50": requests_per_sync(50), "prs_500": requests_per_sync(500),
            "prow": {"warm_reads": PROW_WARM, "cold_reads": PROW_COLD}}


def lines(r: dict) -> list[str]:
    out = []
    for key, n in (("prs_50", 50), ("prs_500", 500)):
        for phase in ("cold", "warm"):
            c = r[key][phase]
            prow = r["prow"]["cold_reads" if phase == "cold" else "warm_reads"]
            out.append(f"tide sync, metal3 (18 repos), {n} PRs, {phase}: {c['reads']} GitHub reads "
                       f"({c['graphql']} GraphQL, {c['rest_reads']} REST), {c['writes']} writes; "
                       f"Prow at 50 PRs: {prow} reads: ratio {c['reads'] / prow:.2f}x")
    return out


if __name__ == "__main__":
    print("\n".join(lines(run())))
