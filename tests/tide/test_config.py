"""Tide's config lookups and query strings, as Prow keys them."""
from shared.tide.config import TideConfig, TideQuery
from shared.tide.search import Blocker, scope_string


def tide(raw: dict) -> TideConfig:
    return TideConfig.from_prow({"tide": raw})


def test_merge_method_takes_the_most_specific_key():
    cfg = tide({"merge_method": {"o": "squash", "o/r": "rebase", "o/b@release": "merge",
                                 "x": {"r": {"release-.*": "squash"}}}})
    assert cfg.merge_method("o", "r", "main") == "rebase"
    assert cfg.merge_method("o", "b", "release") == "merge"
    assert cfg.merge_method("o", "c", "main") == "squash"
    assert cfg.merge_method("x", "r", "release-1.0") == "squash"
    assert cfg.merge_method("x", "r", "main") == "merge"
    assert cfg.merge_method("y", "r", "main") == "merge"


def test_batch_size_limit_by_repo_org_and_star():
    cfg = tide({"batch_size_limit": {"*": 5, "o": 3, "o/r": -1}})
    assert (cfg.batch_size_limit("o", "r"), cfg.batch_size_limit("o", "s"), cfg.batch_size_limit("p", "q")) == (-1, 3, 5)
    assert tide({}).batch_size_limit("o", "r") == 0


def test_query_string_as_prow_builds_it():
    q = TideQuery.parse({"repos": ["o/r"], "orgs": ["p"], "excludedRepos": ["p/x"], "labels": ["lgtm", "a,b"],
                         "missingLabels": ["hold"], "author": "bot", "milestone": "v1",
                         "reviewApprovedRequired": True, "excludedBranches": ["old"]})
    assert q.search_string() == ('is:pr state:open archived:false author:"bot" -base:"old" label:"lgtm" '
                                 'label:"a","b" -label:"hold" milestone:"v1" review:approved org:"p" repo:"o/r" '
                                 '-repo:"p/x"')
    assert q.covers("p", "y") and not q.covers("p", "x") and q.covers("o", "r") and not q.covers("o", "s")


def test_one_scope_search_covers_every_query():
    queries = [TideQuery(repos=("o/r", "p/z")), TideQuery(orgs=("p",))]
    assert scope_string(queries) == 'is:pr state:open archived:false org:"p" repo:"o/r"'


def test_blocker_branches_come_from_the_title():
    assert Blocker("o", "r", 1, "Broken: branch:release-1.2 and branch:main", "").branches() == {"release-1.2", "main"}
    assert Blocker("o", "r", 1, "Everything is broken", "").branches() == set()


def test_context_policy_from_presubmits_and_options():
    class Job:
        def __init__(self, context, optional=False, conditional=False):
            self.context, self.optional, self.conditional = context, optional, conditional

        def could_run(self, branch):
            return True

        def context_required(self):
            return not self.optional

        def triggers_conditionally(self):
            return self.conditional

    cfg = tide({"context_options": {"optional-regex-contexts": ["^cov"],
                                    "orgs": {"o": {"required-contexts": ["dco"]}}}})
    policy = cfg.context_policy("o", "r", "main", [Job("unit"), Job("e2e", conditional=True), Job("lint", optional=True)])
    assert policy.required == {"unit", "dco"} and policy.required_if_present == {"e2e"}
    assert policy.is_optional("lint") and policy.is_optional("coverage") and not policy.is_optional("e2e")
    assert not policy.is_optional("unknown")
    assert policy.missing_required({"unit"}) == ["dco"]
