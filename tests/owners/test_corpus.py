"""OWNERS lookups on kubernetes/test-infra's real tree, read from the fake GitHub through the client."""
import pytest

from shared.github import GitHubClient, MemoryETagCache
from shared.owners import OwnersSettings, load_repo_owners
from tests.fakes.github import FakeGitHub, fake_github  # noqa: F401
from tests.owners.corpus import add_corpus_repo

CONTRIBEX_LEADS = {"madhavjivrajani", "priyankasaggu11929"}
K8S_INFRA_LEADS = {"ameukam", "genpage", "hakman", "upodroid", "xmudrii"}
ROOT_APPROVERS = {"aojea", "bentheelder", "dims", "michelle192837", "upodroid"}
CONFIG_APPROVERS = {"cblecker", "chases2", "dims", "madhavjivrajani", "priyankasaggu11929", "wojtek-t"}
UNFILTERED = OwnersSettings(skip_collaborators=True)


@pytest.fixture(scope="module")
def corpus_gh():
    with FakeGitHub() as gh:
        add_corpus_repo(gh)
        yield gh


@pytest.fixture
def client(corpus_gh):
    corpus_gh.clear_log()
    return GitHubClient(base_url=corpus_gh.url, token=corpus_gh.token, cache=MemoryETagCache())


def test_lookups_on_the_real_tree(client):
    with client.for_event("d") as s:
        owners = load_repo_owners(s, "kubernetes", "test-infra", "master", settings=UNFILTERED)
        assert owners.find_approver_owners_for_file("label_sync/labels.yaml") == "label_sync"
        assert owners.leaf_approvers("label_sync/labels.yaml") == CONTRIBEX_LEADS | {"cblecker"}
        assert owners.approvers_for("label_sync/labels.yaml") == CONTRIBEX_LEADS | {"cblecker"} | ROOT_APPROVERS
        assert owners.required_reviewers("label_sync/labels.yaml") == CONTRIBEX_LEADS  # the "labels\.yaml" filter
        assert owners.required_reviewers("label_sync/main.go") == frozenset()
        assert owners.labels_for("label_sync/main.go") == {"area/label_sync", "sig/contributor-experience",
                                                           "sig/testing"}
        # no_parent_owners
        assert owners.approvers_for("config/jobs/image-pushing/k8s-staging-x.yaml") == {
            "ameukam", "upodroid", "xmudrii", "hakman"}
        trusted = "config/jobs/kubernetes/sig-k8s-infra/trusted/sig-contribex-k8s-triage-robot.yaml"
        assert owners.approvers_for(trusted) == K8S_INFRA_LEADS
        assert owners.required_reviewers(trusted) == CONTRIBEX_LEADS
        # config/prow/OWNERS only has required reviewers: the approval unit is config/
        assert owners.find_approver_owners_for_file("config/prow/config.yaml") == "config"
        assert owners.approvers_for("config/prow/config.yaml") == CONFIG_APPROVERS | ROOT_APPROVERS
        assert owners.required_reviewers("config/prow/plugins.yaml") == CONTRIBEX_LEADS | {"cblecker"}
        assert owners.top_level_approvers() == ROOT_APPROVERS
    # one tree listing, then only OWNERS on the looked-up paths (not above a no_parent_owners that
    # answered) and the aliases, each blob once
    on_paths = {"", "label_sync", "config", "config/jobs", "config/jobs/image-pushing", "config/jobs/kubernetes",
                "config/jobs/kubernetes/sig-k8s-infra", "config/jobs/kubernetes/sig-k8s-infra/trusted",
                "config/prow"}
    blobs = {owners.index.owners[d] for d in on_paths if d in owners.index.owners} | {owners.index.aliases}
    assert s.requests[0].path == "/repos/kubernetes/test-infra/git/trees/master"
    asked = [r.path.rsplit("/", 1)[-1] for r in s.requests[1:]]
    assert len(asked) == len(set(asked)) and set(asked) <= blobs
    assert owners.index.owners["config/jobs/kubernetes/sig-k8s-infra"] not in asked


def test_a_warm_cache_reads_only_the_tree_again_and_gets_a_304(client):
    for delivery in ("cold", "warm"):
        with client.for_event(delivery) as s:
            owners = load_repo_owners(s, "kubernetes", "test-infra", "master", settings=UNFILTERED)
            assert owners.approvers_for("gubernator/README.md")
    assert [(r.path, r.status) for r in s.requests] == [("/repos/kubernetes/test-infra/git/trees/master", 304)]


def test_non_collaborators_are_dropped_unless_the_org_skips_the_check(corpus_gh, client):
    for login in ("dims", "cblecker"):
        corpus_gh.add_collaborator("kubernetes/test-infra", login)
    plugins = _plugins("owners:\n  skip_collaborators: [other-org]\n")
    with client.for_event("d") as s:
        owners = load_repo_owners(s, "kubernetes", "test-infra", "master", plugins=plugins)
        assert owners.approvers_for("label_sync/labels.yaml") == {"cblecker", "dims"}
        assert owners.required_reviewers("label_sync/labels.yaml") == CONTRIBEX_LEADS  # not filtered
    assert sum(r.path.endswith("/collaborators") for r in s.requests) == 1
    with client.for_event("d2") as s:
        owners = load_repo_owners(s, "kubernetes", "test-infra", "master",
                                  plugins=_plugins("owners:\n  skip_collaborators: [kubernetes]\n"))
        assert owners.approvers_for("label_sync/labels.yaml") == CONTRIBEX_LEADS | {"cblecker"} | ROOT_APPROVERS
    assert not any(r.path.endswith("/collaborators") for r in s.requests)


def test_a_moved_branch_is_seen(corpus_gh, client):
    with client.for_event("d") as s:
        assert "newbie" not in load_repo_owners(s, "kubernetes", "test-infra", "master",
                                                settings=UNFILTERED).approvers_for("kettle/x.py")
    corpus_gh.set_file("kubernetes/test-infra", "kettle/OWNERS", "approvers: [newbie]\n", ref="master")
    with client.for_event("d2") as s:
        assert "newbie" in load_repo_owners(s, "kubernetes", "test-infra", "master",
                                            settings=UNFILTERED).approvers_for("kettle/x.py")


def _plugins(text: str):
    from shared.config.plugins import parse_plugin_config
    from shared.config.errors import Diagnostics
    from shared.config.yamlnodes import load_yaml
    doc, _ = load_yaml(text, "plugins.yaml")
    return parse_plugin_config(doc, "plugins.yaml", Diagnostics())



def test_prefetch_reads_the_owners_on_many_paths_in_one_request(client, monkeypatch):
    from shared.owners import repo as owners_repo
    monkeypatch.setattr(owners_repo, "_PARSED", owners_repo._LRU(16))  # nothing parsed in this process yet
    files = ["label_sync/labels.yaml", "config/prow/config.yaml", "kettle/x.py", "gubernator/github/main.py"]
    with client.for_event("d") as s:
        owners = load_repo_owners(s, "kubernetes", "test-infra", "master", settings=UNFILTERED)
        owners.prefetch(files)
        before = len(s.requests)
        for f in files:
            owners.approvers_for(f)
        assert [(r.method, r.path) for r in s.requests] == [
            ("GET", "/repos/kubernetes/test-infra/git/trees/master"), ("POST", "/graphql")]
        assert len(s.requests) == before
