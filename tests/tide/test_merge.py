"""GitHub refusing Tide's merge (409 and each kind of 405), the metal3 config's merge methods, and the
singleton lease."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.appenv import prow  # noqa: F401
from tests.tide.test_stories import Tide, tide  # noqa: F401
from tests.conftest import CORPUS as SHARED_CORPUS

BASE_MODIFIED = "Base branch was modified. Review and try the merge again."
UNAUTHORIZED = ("You're not authorized to push to this branch. Visit https://docs.github.com/articles/"
                "about-protected-branches/ for more information.")
MERGE_COMMITS = "Merge commits are not allowed on this repository."
UNMERGEABLE = "Pull Request is not mergeable"


def refuse(t: Tide, status: int, message: str, times: int = 1):
    return t.gh.fail("PUT", f"/repos/{t.repo}/pulls/*/merge", status=status, body={"message": message}, times=times)


def batch_ready(t: Tide) -> tuple[int, int]:
    a, b = t.ready_pr(), t.ready_pr()
    t.sync()
    [batch] = t.jobs()
    t.finish(batch, "success")
    return a, b


def test_409_head_modified_is_recorded_and_not_retried_until_the_head_moves(tide):  # noqa: F811
    t = tide(jobs=False)
    n = t.ready_pr()
    refuse(t, 409, "Head branch was modified. Review and try the merge again.")
    t.sync()
    assert not t.gh.merged(t.repo, n)
    assert t.pool()["Error"].startswith(f"failed merging [{n}]: #{n}: PR was modified")
    assert t.history()[0]["action"] == "MERGE" and "PR was modified" in t.history()[0]["err"]
    t.sync()
    assert t.merges() == 1                       # not picked again at the same head and base
    t.gh.update_pull(t.repo, n, head_sha="f" * 40)
    t.sync()
    assert t.gh.merged(t.repo, n) and t.merges() == 2


def test_405_base_branch_modified_is_retried_with_backoff(tide):  # noqa: F811
    t = tide(jobs=False)
    n = t.ready_pr()
    refuse(t, 405, BASE_MODIFIED, times=2)
    t.sync()
    assert t.gh.merged(t.repo, n) and t.merges() == 3 and t.slept == [4.0, 8.0]


def test_405_base_branch_modified_gives_up_after_three_attempts(tide):  # noqa: F811
    t = tide(jobs=False)
    n = t.ready_pr()
    refuse(t, 405, BASE_MODIFIED, times=3)
    t.sync()
    assert not t.gh.merged(t.repo, n) and t.merges() == 3
    assert "base branch was modified" in t.pool()["Error"]


@pytest.mark.parametrize("message, expected", [
    (UNAUTHORIZED, "branch needs to be configured to allow this robot to push"),
    (MERGE_COMMITS, "Tide needs to be configured to use the 'rebase' merge method"),
])
def test_405_that_no_other_pr_can_pass_stops_the_batch(tide, message, expected):  # noqa: F811
    t = tide()
    a, b = batch_ready(t)
    refuse(t, 405, message)
    t.sync()
    assert t.merges() == 1 and not t.gh.merged(t.repo, a) and not t.gh.merged(t.repo, b)
    assert expected in t.pool()["Error"] and f"from batch [{a}, {b}]" in t.pool()["Error"]


def test_405_not_mergeable_skips_the_pr_and_merges_the_rest_of_the_batch(tide):  # noqa: F811
    t = tide()
    a, b = batch_ready(t)
    refuse(t, 405, UNMERGEABLE)
    t.sync()
    assert not t.gh.merged(t.repo, a) and t.gh.merged(t.repo, b)
    error = t.pool()["Error"]
    assert "PR is unmergable. Do the Tide merge requirements match the GitHub settings for the repo?" in error
    assert f"partial merge [{b}]" in error


def test_metal3_config_merges_with_its_methods_and_override_labels(tide, prow):  # noqa: F811
    text = (SHARED_CORPUS / "prow-configs" / "metal3" / "config.yaml").read_text()
    t = tide(jobs=False)
    t.configure(text)
    gh = prow.gh
    for repo in ("metal3-io/baremetal-operator", "Nordix/metal3-dev-tools"):
        if repo not in {r.full_name for r in gh._repos.values()}:
            gh.add_repo(repo)
    ready = ["lgtm", "approved"]
    bmo = gh.add_pull("metal3-io/baremetal-operator", labels=ready)
    squash = gh.add_pull("metal3-io/baremetal-operator", labels=[*ready, "tide/merge-method-squash"], base="release-0.9")
    held = gh.add_pull("metal3-io/baremetal-operator", labels=[*ready, "do-not-merge/hold"])
    both = gh.add_pull("metal3-io/baremetal-operator", labels=[*ready, "tide/merge-method-squash",
                                                               "tide/merge-method-rebase"])
    nordix = gh.add_pull("Nordix/metal3-dev-tools", labels=ready)
    t.sync()
    assert gh.pull("metal3-io/baremetal-operator", bmo).merge_method == "merge"
    assert gh.pull("metal3-io/baremetal-operator", squash).merge_method == "squash"
    assert gh.pull("Nordix/metal3-dev-tools", nordix).merge_method == "rebase"
    assert not gh.merged("metal3-io/baremetal-operator", held)
    sha = gh.pull("metal3-io/baremetal-operator", both).head_sha
    [status] = [s for s in gh.statuses("metal3-io/baremetal-operator", sha) if s.context == "tide"]
    assert (status.state, status.description) == (
        "error", "Not mergeable. PR has conflicting merge method override labels")
    sha = gh.pull("metal3-io/baremetal-operator", held).head_sha
    [status] = [s for s in gh.statuses("metal3-io/baremetal-operator", sha) if s.context == "tide"]
    assert status.description == "Not mergeable. Should not have do-not-merge/hold label."


def test_a_second_sync_while_one_holds_the_lease_does_nothing(tide):  # noqa: F811
    t = tide(jobs=False)
    n = t.ready_pr()
    now = datetime.now(timezone.utc)
    assert t.state.acquire("other-run", now=now)
    t.gh.clear_log()
    t.sync()
    assert t.gh.log == [] and not t.gh.merged(t.repo, n)
    t.state.release()
    t.sync()
    assert t.gh.merged(t.repo, n)


def test_an_expired_lease_is_taken_over_and_the_old_holder_cannot_act(tide):  # noqa: F811
    from shared.storage import default_clients
    from shared.tide.state import LockLost, TideState
    t = tide(jobs=False)
    now = datetime.now(timezone.utc)
    first, second = TideState(default_clients()), TideState(default_clients())
    assert first.acquire("first", now=now - timedelta(minutes=10))
    assert not TideState(default_clients()).acquire("third", now=now - timedelta(minutes=9))
    assert second.acquire("second", now=now)
    with pytest.raises(LockLost):
        first.renew(now=now)
    second.release()


def test_merge_commit_template_titles_the_merge(tide):  # noqa: F811
    t = tide(jobs=False)
    t.configure(t.app.config_dir.joinpath("config.yaml").read_text().replace(
        "tide:\n", f"tide:\n  merge_commit_template:\n    {t.repo}:\n"
                   "      title: '{{ .Title }} (#{{ .Number }}) by {{ .AuthorLogin }}'\n", 1))
    n = t.ready_pr(title="Fix it", author="alice")
    t.sync()
    pr = t.gh.pull(t.repo, n)
    assert t.gh.repo(t.repo).commits[pr.merge_commit_sha].message == f"Fix it (#{n}) by alice"
