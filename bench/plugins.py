"""GitHub requests of the review plugins (the ChatOps issue), cold and warm, against Prow's counts.

Each figure is what the fake GitHub logged for one delivery through hook and dispatch, split into
requests that count against the rate limit and free 304 revalidations, REST and GraphQL, writes.
`GET /user` (the bot's login, asked once per process) is left out: it is not per event.

* cold: a fresh process and an empty ETag cache;
* warm: the same command on a second pull request of the same repository, in the same process, after a
  first one warmed the repository-wide reads (OWNERS tree and files, collaborators, the bot login).
  What is read per pull request (its labels, files, comments) is new to the cache, and counted.

Prow's counts (without its cache, counted from its source): `/lgtm` 5 (7 with skip_collaborators),
`/approve` 10, `/hold` 2, a PR opened with metal3's plugins 22 REST + 3 GraphQL.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from bench.app import App, classify
from tests import payloads

METAL3 = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "prow-configs" / "metal3"
PROW = {"/hold": 2, "/lgtm": 5, "/lgtm (skip_collaborators)": 7, "/approve (50 files, 10 OWNERS)": 10,
        "PR opened (metal3 plugins)": 25}


def _fresh_process_caches() -> None:
    """Serve the next event as a new instance with an empty cache would: forget the parsed OWNERS and give
    the one GitHub client an ETag cache of its own (new, empty table and container). Call after App()."""
    import os
    import uuid

    from shared.github import client
    from shared.github.etag_cache import StorageETagCache
    from shared.owners import repo as owners_repo
    from shared.storage import default_clients

    owners_repo._PARSED = owners_repo._LRU(4096)
    name = "ghcache" + uuid.uuid4().hex[:12]
    with client._default_lock:
        client._default = client.GitHubClient.from_env(
            cache=StorageETagCache(default_clients(), table=name, container=name))
        client._default_key = tuple(os.environ.get(n, "") for n in (*client.SETTINGS, "PROW_STORAGE"))


def _measure(app: App, gh, event: str, payload: dict) -> dict:
    gh.clear_log()
    app.deliver(event, payload)
    return classify([r for r in gh.log if r.path != "/user"])


def _comment(repo: str, number: int, body: str, who: str, gh) -> dict:
    cid = gh.add_comment(repo, number, body, author=who)
    return payloads.issue_comment(repo, number, body, commenter=who, on_pull=True, issue_author="alice",
                                  comment_id=cid)


def simple_commands(conn: str) -> dict:
    """`/hold` and `/lgtm` (collaborator path and OWNERS path) cold and warm."""
    from tests.fakes.github import FakeGitHub

    out: dict = {}
    owners = {"OWNERS": "approvers: [root-approver]\nreviewers: [bob]\n",
              **{f"pkg{i}/OWNERS": f"approvers: [appr{i}]\nreviewers: [rev{i}]\n" for i in range(3)}}
    files = [f"pkg{i}/file{j}.go" for i in range(3) for j in range(2)]
    cases = [
        ("/hold", "plugins:\n  org:\n    plugins: [hold]\n", "/hold", "bob"),
        ("/lgtm", "plugins:\n  org:\n    plugins: [lgtm]\n", "/lgtm", "bob"),
        ("/lgtm (skip_collaborators)", "plugins:\n  org:\n    plugins: [lgtm]\nowners:\n  skip_collaborators: [org]\n",
         "/lgtm", "rev1"),
    ]
    for name, plugins, body, who in cases:
        with FakeGitHub() as gh, tempfile.TemporaryDirectory() as tmp:
            app = App(conn, gh, Path(tmp), plugins=plugins)
            _fresh_process_caches()
            gh.add_repo("org/repo", files=owners)
            for login in ("bob", "alice", "rev1"):
                gh.add_collaborator("org/repo", login)
            first = gh.add_pull("org/repo", author="alice", files=files)
            second = gh.add_pull("org/repo", author="alice", files=files)
            cold = _measure(app, gh, "issue_comment", _comment("org/repo", first, body, who, gh))
            warm = _measure(app, gh, "issue_comment", _comment("org/repo", second, body, who, gh))
            assert "lgtm" in gh.labels("org/repo", second) or name == "/hold", gh.labels("org/repo", second)
            out[name] = {"cold": cold, "warm": warm, "prow": PROW[name]}
    return out


def approve(conn: str) -> dict:
    """`/approve` on a PR touching 50 files across 10 OWNERS directories of kubernetes/test-infra's tree."""
    from tests.fakes.github import FakeGitHub
    from tests.owners.corpus import add_corpus_repo
    from tests.test_plugins_approve_corpus import PLUGINS, REPO, changed_files

    with FakeGitHub() as gh, tempfile.TemporaryDirectory() as tmp:
        app = App(conn, gh, Path(tmp), plugins=PLUGINS)
        _fresh_process_caches()
        add_corpus_repo(gh, REPO)
        files = changed_files()
        first = gh.add_pull(REPO, author="contributor", base="master", files=files)
        second = gh.add_pull(REPO, author="contributor", base="master", files=files)
        cold = _measure(app, gh, "issue_comment", _comment(REPO, first, "/approve", "cblecker", gh))
        warm = _measure(app, gh, "issue_comment", _comment(REPO, second, "/approve", "cblecker", gh))
        return {"/approve (50 files, 10 OWNERS)": {"cold": cold, "warm": warm, "prow": PROW["/approve (50 files, 10 OWNERS)"],
                                                  "files": len(files)}}


def metal3_pr_opened(conn: str) -> dict:
    """A member opens a PR on metal3-io/baremetal-operator with metal3's real config.yaml, plugins.yaml and
    job files: every plugin metal3 enables runs (trigger included, which queues the jobs it starts)."""
    from tests.fakes.github import FakeGitHub

    repo = "metal3-io/baremetal-operator"
    with FakeGitHub() as gh, tempfile.TemporaryDirectory() as tmp:
        app = App(conn, gh, Path(tmp), config_path=METAL3 / "config.yaml", plugins_path=METAL3 / "plugins.yaml",
                  job_config=METAL3 / "jobs")
        _fresh_process_caches()
        gh.add_repo(repo, files={"OWNERS": "approvers: [maintainer]\nreviewers: [reviewer1, reviewer2]\n",
                                 "OWNERS_ALIASES": "aliases: {}\n", "controllers/OWNERS": "reviewers: [reviewer3]\n"})
        gh.add_org("metal3-io")
        for login in ("member", "maintainer", "reviewer1", "reviewer2", "reviewer3"):
            gh.add_org_member("metal3-io", login)
            gh.add_collaborator(repo, login)
        files = ["controllers/host.go", "controllers/host_test.go", "docs/api.md", "go.mod", "Makefile"]
        out = {}
        for case in ("cold", "warm"):
            number = gh.add_pull(repo, author="member", title="Fix the host controller", files=files)
            pull = gh.pull(repo, number)
            event = payloads.pull_request_event(repo, number, action="opened", author="member",
                                                head_sha=pull.head_sha, base_sha=gh.branch_sha(repo, "main"))
            out[case] = _measure(app, gh, "pull_request", event)
        return {"PR opened (metal3 plugins)": {**out, "prow": PROW["PR opened (metal3 plugins)"]}}


def lines(results: dict) -> list[str]:
    out = []
    for name, r in results.items():
        cold, warm = r["cold"], r["warm"]
        out.append(f"{name}: cold {cold['total']} requests ({cold['rest']} REST + {cold['graphql']} GraphQL, "
                   f"{cold['rate_limited']} counted, {cold['writes']} writes); warm {warm['total']} "
                   f"({warm['rate_limited']} counted, {warm['revalidations_304']} 304s, {warm['writes']} writes); "
                   f"Prow {r['prow']} without a cache")
    return out
