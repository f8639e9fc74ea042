"""approve on kubernetes/test-infra's real OWNERS tree (../shared/corpus/owners), changed files from its
files.txt: which OWNERS files a PR needs, the notification, and the GitHub requests of `/approve`."""
import json
import logging

import pytest

from shared import labels
from shared.owners import RepoOwners, repo as owners_repo
from tests import payloads
from tests.appenv import prow  # noqa: F401
from tests.owners.corpus import add_corpus_repo, corpus_contents, corpus_files

REPO = "kubernetes/test-infra"
PLUGINS = "plugins:\n  kubernetes:\n    plugins: [approve]\nowners:\n  skip_collaborators: [kubernetes]\n"
# ten OWNERS directories, none inside another, five changed files in each
UNITS = ["config", "docs", "experiment", "gcsweb", "images/bootstrap", "images/krte", "images/kubekins-e2e",
         "images/kubekins-e2e-v2", "jenkins", "jobs/e2e_node"]
log = logging.getLogger(__name__)


def local_owners() -> RepoOwners:
    """The same tree read from the corpus directly: what the files below are checked against."""
    return RepoOwners.from_files({p: c for p, c in corpus_contents().items()
                                  if p.rsplit("/", 1)[-1].startswith("OWNERS")})


def changed_files() -> list[str]:
    owners, picked = local_owners(), []
    for unit in UNITS:
        mine = [f for f in corpus_files()
                if not f.endswith("OWNERS") and owners.find_approver_owners_for_file(f) == unit]
        picked += mine[:5]
    return picked


@pytest.fixture
def corpus(prow, monkeypatch):
    monkeypatch.setattr(owners_repo, "_PARSED", owners_repo._LRU(16))  # a cold process
    prow.plugins_yaml(PLUGINS)
    add_corpus_repo(prow.gh, REPO)
    return prow


def approve(prow, n, who):
    cid = prow.gh.add_comment(REPO, n, "/approve", author=who)
    prow.gh.clear_log()
    prow.post("issue_comment", payloads.issue_comment(REPO, n, "/approve", commenter=who, on_pull=True,
                                                      comment_id=cid))
    prow.settle()
    return list(prow.gh.log)


def test_the_files_need_their_ten_owners_files_and_the_notice_lists_them(corpus):
    files = changed_files()
    assert len(files) == 50
    n = corpus.gh.add_pull(REPO, author="contributor", base="master", files=files)
    approve(corpus, n, "cblecker")  # an approver of config/ and docs/ (leaf), not of the others
    [notice] = [c.body for c in corpus.gh.comments(REPO, n) if c.user == "ci-bot"]
    assert notice.startswith("[APPROVALNOTIFIER] This PR is **NOT APPROVED**\n\n")
    lines = [line for line in notice.splitlines() if line.startswith("- ")]
    link = "https://github.com/kubernetes/test-infra/blob/master"
    assert lines == [f"- ~~[{u}/OWNERS]({link}/{u}/OWNERS)~~ [cblecker]" if u in ("config", "docs")
                     else f"- **[{u}/OWNERS]({link}/{u}/OWNERS)**" for u in sorted(UNITS)]
    # the suggestions are leaf approvers who, with cblecker, can approve the eight other directories
    owners = local_owners()
    suggested = set(json.loads(notice.split("<!-- META=")[1].removesuffix(" -->"))["approvers"])
    leaves = set().union(*(owners.leaf_approvers(f) for f in files))
    assert suggested and suggested <= leaves
    for f in files:
        assert owners.approvers_for(f) & (suggested | {"cblecker"}), f
    people = ", ".join(f"[{s}](https://github.com/{s})" for s in sorted(suggested))
    assert f"please assign {people} for approval" in notice
    assert labels.APPROVED not in corpus.gh.labels(REPO, n)


def test_approve_requests_cold_and_warm(corpus):
    n = corpus.gh.add_pull(REPO, author="contributor", base="master", files=changed_files())
    cold = approve(corpus, n, "cblecker")
    warm = approve(corpus, n, "aojea")
    report = {}
    for name, requests in (("cold", cold), ("warm", warm)):
        report[name] = (len(requests), sum(r.status == 304 for r in requests),
                        [f"{r.method} {r.path} {r.status}" for r in requests])
        log.warning("/approve %s: %d requests, %d of them 304: %s", name, *report[name])
    # the OWNERS on the changed files' paths (the ten, their parents, the root) and the aliases: read in
    # one GraphQL request, and never again (content-addressed)
    assert [r.path for r in cold if "/git/" in r.path or r.path == "/graphql"] == [
        f"/repos/{REPO}/git/trees/master", "/graphql"]
    assert len(cold) - sum(r.path == "/user" for r in cold) < 10  # Prow: 10, without counting its clone
    assert not any("/git/blobs/" in r.path or r.path == "/graphql" for r in warm)
    warm_reads = [r for r in warm if r.method == "GET" and r.status != 304]
    # a warm read that costs rate limit is one whose answer changed: the comments (the new /approve)
    assert {r.path for r in warm_reads} <= {f"/repos/{REPO}/issues/{n}/comments", f"/repos/{REPO}/pulls/{n}"}
