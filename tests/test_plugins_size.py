"""size end to end: pull_request events through hook and dispatch; size labels and requests in the fake."""
import pytest

from tests import payloads
from tests.appenv import prow  # noqa: F401

REPO = "org/repo"


@pytest.fixture
def app(prow):
    prow.plugins_yaml("plugins:\n  org:\n    plugins: [size]\n")
    prow.gh.add_repo(REPO)
    return prow


def open_pull(app, files, *, labels=(), action="opened"):
    number = app.gh.add_pull(REPO, files=files, labels=list(labels))
    pr = app.gh.pull(REPO, number)
    total = sum(f.get("additions", 1) + f.get("deletions", 0) for f in files)
    event = payloads.pull_request_event(REPO, number, action=action, labels=list(labels), base_sha=pr.base_sha,
                                        head_sha=pr.head_sha)
    event["pull_request"].update(additions=total, deletions=0, changed_files=len(files))
    app.post("pull_request", event)
    app.settle()
    return number


def lines(n, name="main.go"):
    return {"filename": name, "additions": n, "deletions": 0}


@pytest.mark.parametrize("count, label", [(0, "size/XS"), (9, "size/XS"), (10, "size/S"), (29, "size/S"),
                                          (30, "size/M"), (99, "size/M"), (100, "size/L"), (499, "size/L"),
                                          (500, "size/XL"), (999, "size/XL"), (1000, "size/XXL")])
def test_default_thresholds(app, count, label):
    number = open_pull(app, [lines(count)])
    assert app.gh.labels(REPO, number) == [label]


def test_thresholds_from_plugins_yaml_zero_means_default(app):
    app.plugins_yaml("plugins:\n  org:\n    plugins: [size]\nsize:\n  s: 1\n  m: 2\n  l: 0\n  xl: 600\n  xxl: 700\n")
    assert app.gh.labels(REPO, open_pull(app, [lines(1)])) == ["size/S"]
    assert app.gh.labels(REPO, open_pull(app, [lines(99)])) == ["size/M"]     # l: 0 -> 100
    assert app.gh.labels(REPO, open_pull(app, [lines(650)])) == ["size/XL"]


def test_other_size_labels_are_replaced_and_the_right_one_kept(app):
    number = open_pull(app, [lines(40)], labels=["size/XS", "size/M", "kind/bug"], action="synchronize")
    assert sorted(app.gh.labels(REPO, number)) == ["kind/bug", "size/M"]


def test_without_generated_files_the_payload_counts_and_nothing_is_listed(app):
    app.gh.clear_log()
    number = open_pull(app, [lines(5)])
    sha = app.gh.pull(REPO, number).base_sha
    assert [(r.method, r.path) for r in app.gh.log] == [
        ("GET", f"/repos/{REPO}/git/trees/{sha}"), ("POST", f"/repos/{REPO}/issues/{number}/labels")]
    app.gh.clear_log()
    other = open_pull(app, [lines(5)])                          # same base commit: the tree is a free 304
    assert [(r.method, r.status) for r in app.gh.log] == [("GET", 304), ("POST", 200)]
    assert app.gh.labels(REPO, other) == ["size/XS"]


def test_generated_files_are_not_counted(app):
    app.gh.set_files(REPO, {
        ".generated_files": "# generated\nfile-prefix zz_generated.\npath-prefix vendor/\npaths-from-repo gen.txt\n",
        "gen.txt": "api/openapi.json\n",
        ".gitattributes": "*.pb.go linguist-generated=true\ndocs/** -diff\n"}, ref="main")
    number = open_pull(app, [lines(5), lines(900, "pkg/zz_generated.deepcopy.go"), lines(900, "vendor/x/y.go"),
                             lines(900, "api/openapi.json"), lines(900, "api/v1/types.pb.go"),
                             lines(20, "docs/big.md")])
    assert app.gh.labels(REPO, number) == ["size/S"]


def test_size_delivered_twice_changes_nothing_the_second_time(app):
    number = app.gh.add_pull(REPO, files=[lines(12)])
    pr = app.gh.pull(REPO, number)
    event = payloads.pull_request_event(REPO, number, base_sha=pr.base_sha)
    event["pull_request"].update(additions=12, deletions=0)
    sent = app.post("pull_request", event)
    app.settle()
    app.gh.clear_log()
    app.post("pull_request", event, delivery=sent["X-GitHub-Delivery"])
    app.settle()
    assert app.gh.log == []
    event["pull_request"]["labels"] = [{"name": "size/S"}]     # the next event shows the label
    app.post("pull_request", {**event, "action": "edited"})
    app.settle()
    assert app.gh.find("POST") == [] and app.gh.find("DELETE") == []
    assert app.gh.labels(REPO, number) == ["size/S"]
