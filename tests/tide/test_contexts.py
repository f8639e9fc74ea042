"""Which contexts keep a PR out of the pool, and how results on the current base are found."""
from __future__ import annotations

from shared.github.statuses import description_with_base_sha
from tests.appenv import prow  # noqa: F401
from tests.tide.test_stories import tide  # noqa: F401


def test_after_a_merge_the_other_pr_is_retested_on_the_new_base(tide):  # noqa: F811
    t = tide()
    base = t.gh.branch_sha(t.repo, "main")
    a, b = t.ready_pr(tested=False), t.ready_pr(tested=False)
    for n in (a, b):   # both passed on the current base (crier's BaseSHA suffix)
        t.gh.set_status(t.repo, t.gh.pull(t.repo, n).head_sha, "unit", "success",
                        description=description_with_base_sha("Job succeeded.", base))
    t.sync()
    assert t.gh.merged(t.repo, a) and not t.gh.merged(t.repo, b) and t.jobs() == []
    assert t.pool()["Action"] == "MERGE"
    t.sync()
    [retest] = t.jobs()
    assert retest.pull_numbers == [b] and retest.refs["base_sha"] == t.gh.branch_sha(t.repo, "main") != base
    assert t.tide_status(b) == ("pending", "Not mergeable. Retesting: unit")


def test_priority_labels_merge_first(tide):  # noqa: F811
    t = tide(jobs=False, extra="  priority:\n  - labels: [kind/bug]\n")
    first = t.ready_pr()
    urgent = t.ready_pr(labels=["lgtm", "approved", "kind/bug"])
    t.sync()
    assert t.gh.merged(t.repo, urgent) and not t.gh.merged(t.repo, first)


def test_an_unknown_failing_context_blocks_unless_skip_unknown_contexts(tide):  # noqa: F811
    t = tide(jobs=False)
    n = t.ready_pr()
    t.gh.add_check_run(t.repo, t.gh.pull(t.repo, n).head_sha, "lint", conclusion="failure")
    t.sync()
    assert not t.gh.merged(t.repo, n)
    assert t.tide_status(n) == ("pending", "Not mergeable. Job lint has not succeeded.")
    t.configure(t.app.config_dir.joinpath("config.yaml").read_text().replace(
        "tide:\n", "tide:\n  context_options:\n    skip-unknown-contexts: true\n", 1))
    t.sync()
    assert t.gh.merged(t.repo, n)


def test_from_branch_protection_requires_the_configured_contexts(tide):  # noqa: F811
    t = tide(jobs=False)
    org, name = t.repo.split("/")
    t.configure(t.app.config_dir.joinpath("config.yaml").read_text().replace(
        "tide:\n", "tide:\n  context_options:\n    from-branch-protection: true\n", 1)
        + f"branch-protection:\n  orgs:\n    {org}:\n      protect: true\n      required_status_checks:\n"
          f"        contexts: [dco]\n")
    n = t.ready_pr()
    t.sync()
    assert not t.gh.merged(t.repo, n)
    assert t.tide_status(n) == ("pending", "Not mergeable. Job dco has not succeeded.")
    t.gh.set_status(t.repo, t.gh.pull(t.repo, n).head_sha, "dco", "success")
    t.sync()
    assert t.gh.merged(t.repo, n)


def test_an_optional_context_does_not_block(tide):  # noqa: F811
    t = tide(jobs=False, extra="  context_options:\n    optional-contexts: [coverage]\n")
    n = t.ready_pr()
    t.gh.set_status(t.repo, t.gh.pull(t.repo, n).head_sha, "coverage", "failure")
    t.sync()
    assert t.gh.merged(t.repo, n)


def test_a_batch_respects_batch_size_limit(tide):  # noqa: F811
    t = tide(extra="  batch_size_limit:\n    '*': 2\n")
    prs = [t.ready_pr() for _ in range(3)]
    t.sync()
    [batch] = t.jobs()
    assert sorted(batch.pull_numbers) == prs[:2]
