"""blunderbuss: request reviews from OWNERS reviewers of the changed files when a PR is opened (or made
ready for review), and on `/auto-cc` (Prow's pkg/plugins/blunderbuss and pkg/reviewer, spec §9).

Selection is Prow's GetReviewers over the base branch's OWNERS (shared/owners; collaborator-filtered
unless `owners.skip_collaborators`): one random leaf reviewer per OWNERS file touched, then more leaf
reviewers, then inherited reviewers closest first, until `request_count`; approvers fill up what is
missing unless `exclude_approvers`; the list is cut to `max_request_count` and the required reviewers
are added. The PR's author is never requested (Prow could request a required reviewer who is the author;
GitHub refuses that). A `/cc` line in the PR's body, a draft with `ignore_drafts` and an author in
`ignore_authors` mean no request on open, as in Prow.

Deliberate differences:
- The random picks are seeded by the PR (org/repo#number), so the same PR and OWNERS give the same
  reviewers: a second `/auto-cc`, or a retried delivery, finds them requested and sends nothing.
- `use_status_availability` is accepted but not applied: GitHub's "busy" status is only in GraphQL, which
  the app's client does not speak; every candidate counts as available (what Prow does when its query fails).
- `wait_for_status` (newer Prow) is not supported.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from shared.events import CREATED, GenericCommentEvent, PullRequestEvent, norm_login
from shared.owners import RepoOwners, load_repo_owners
from shared.plugins.registry import Command, Plugin, PluginContext, PluginHelp, register

AUTO_CC_RE = re.compile(r"(?mi)^/auto-cc\s*$", re.ASCII)
# Prow's assign.CCRegexp: a PR whose body says whom to /cc gets no automatic reviewers.
CC_RE = re.compile(r"(?mi)^/(un)?cc(( +@?[-/\w]+?)*)\s*$", re.ASCII)
DEFAULT_REQUEST_COUNT = 2


@dataclass(frozen=True)
class BlunderbussOptions:
    """plugins.yaml `blunderbuss:` (Prow's plugins.Blunderbuss)."""

    request_count: int = DEFAULT_REQUEST_COUNT
    max_request_count: int = 0          # 0: no limit
    exclude_approvers: bool = False
    use_status_availability: bool = False
    ignore_drafts: bool = False
    ignore_authors: tuple[str, ...] = ()


def options(plugin_config: Any) -> BlunderbussOptions:
    section = plugin_config.section("blunderbuss") if plugin_config is not None else None
    if not isinstance(section, dict):
        return BlunderbussOptions()

    def integer(name: str, default: int) -> int:
        value = section.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else default

    authors = section.get("ignore_authors")
    return BlunderbussOptions(
        request_count=integer("request_count", DEFAULT_REQUEST_COUNT),
        max_request_count=integer("max_request_count", 0),
        exclude_approvers=section.get("exclude_approvers") is True,
        use_status_availability=section.get("use_status_availability") is True,
        ignore_drafts=section.get("ignore_drafts") is True,
        ignore_authors=tuple(a for a in authors if isinstance(a, str)) if isinstance(authors, list) else ())


def _help(plugin_config, enabled_repos: list[str]) -> PluginHelp:
    count = options(plugin_config).request_count
    return PluginHelp(
        description="The blunderbuss plugin automatically requests reviews from reviewers when a new PR is created. "
                    "The reviewers are selected based on the reviewers specified in the OWNERS files that apply to "
                    "the files modified by the PR.",
        config={"": f"Blunderbuss is currently configured to request reviews from {count} "
                    f"reviewer{'s' if count > 1 else ''}."},
        commands=[Command(
            usage="/auto-cc",
            description="Manually request reviews from reviewers for a PR. Useful if OWNERS file were updated "
                        "since the PR was opened.",
            examples=["/auto-cc"], who_can_use="Anyone")])


PLUGIN = register(Plugin("blunderbuss", _help))


@PLUGIN.on(PullRequestEvent)
def handle_pull_request(ctx: PluginContext, event: PullRequestEvent) -> None:
    pr = event.pull_request
    if event.action not in ("opened", "ready_for_review") or CC_RE.search(pr.body):
        return
    opts = options(ctx.plugin_config)
    if (pr.draft and opts.ignore_drafts) or pr.user.login in opts.ignore_authors:
        return
    org, repo = event.repo.org, event.repo.name
    _request_reviews(ctx, opts, org, repo, pr.number, author=pr.user.login, base_ref=pr.base.ref,
                     already=[u.login for u in pr.requested_reviewers])


@PLUGIN.on(GenericCommentEvent)
def handle_comment(ctx: PluginContext, event: GenericCommentEvent) -> None:
    if event.action != CREATED or not event.is_pr or event.issue_state == "closed":
        return
    if not AUTO_CC_RE.search(event.body):
        return
    org, repo = event.repo.org, event.repo.name
    pr = ctx.github.get_pull(org, repo, event.number)
    _request_reviews(ctx, options(ctx.plugin_config), org, repo, event.number, author=pr["user"]["login"],
                     base_ref=pr["base"]["ref"],
                     already=[u["login"] for u in pr.get("requested_reviewers") or []])


def _request_reviews(ctx: PluginContext, opts: BlunderbussOptions, org: str, repo: str, number: int, *,
                     author: str, base_ref: str, already: Iterable[str]) -> None:
    gh = ctx.github
    owners = load_repo_owners(gh, org, repo, base_ref, plugins=ctx.plugin_config,
                              prow=getattr(ctx.config, "prow", None))
    files = [f["filename"] for f in gh.list_pull_files(org, repo, number)]
    reviewers = choose_reviewers(owners, files, author, opts, random.Random(f"{org}/{repo}#{number}"))
    if not reviewers:
        return
    requested = {norm_login(login) for login in already}
    if {norm_login(login) for login in reviewers} <= requested:
        ctx.log.info("reviews already requested from %s", reviewers)
        return
    ctx.once("request reviews", lambda: _request(ctx, org, repo, number, reviewers))


def _request(ctx: PluginContext, org: str, repo: str, number: int, reviewers: list[str]) -> None:
    """Request all in one call; if GitHub refuses one of them (not a collaborator), each on its own, as
    Prow's RequestReview does."""
    from shared.github.errors import ValidationFailed
    gh = ctx.github
    try:
        gh.request_reviewers(org, repo, number, reviewers)
    except ValidationFailed:
        for login in reviewers:
            ctx.best_effort(f"requesting a review from {login}",
                            lambda login=login: gh.request_reviewers(org, repo, number, [login]))


# -- selection (Prow's reviewer.GetReviewers) ------------------------------------------------------------

class _LayeredSet:
    """Prow's layeredsets.String: disjoint layers, each item in one layer; pops from the first non-empty."""

    def __init__(self, layers: Iterable[Iterable[str]] = ()):
        self.layers: list[set[str]] = []
        for index, items in enumerate(layers):
            self.insert(index, *items)

    def insert(self, layer: int, *items: str) -> None:
        while len(self.layers) <= layer:
            self.layers.append(set())
        for item in items:
            if item not in self:
                self.layers[layer].add(item)

    def __contains__(self, item: str) -> bool:
        return any(item in layer for layer in self.layers)

    def __len__(self) -> int:
        return sum(len(layer) for layer in self.layers)

    def items(self) -> set[str]:
        return set().union(*self.layers)

    def without(self, excluded: set[str]) -> "_LayeredSet":
        return _LayeredSet([layer - excluded for layer in self.layers])

    def union(self, other: "_LayeredSet") -> "_LayeredSet":
        result = _LayeredSet(self.layers)
        for index, layer in enumerate(other.layers):
            result.insert(index, *sorted(layer))
        return result

    def pop_random(self, rng: random.Random) -> str:
        for layer in self.layers:
            if layer:
                chosen = rng.choice(sorted(layer))
                for each in self.layers:
                    each.discard(chosen)
                return chosen
        return ""

    def as_list(self) -> list[str]:
        """Layer by layer, each sorted (Prow's List)."""
        return [item for layer in self.layers for item in sorted(layer)]


@dataclass(frozen=True)
class _Pool:
    """Where candidates come from: the reviewers, or for the fallback the approvers, of OWNERS."""

    owners_for: Callable[[str], str]
    layers: Callable[[str], list[frozenset[str]]]
    leaf: Callable[[str], frozenset[str]]
    required: Callable[[str], frozenset[str]]


def _reviewer_pool(owners: RepoOwners) -> _Pool:
    return _Pool(owners.find_reviewers_owners_for_file, owners.reviewer_layers, owners.leaf_reviewers,
                 owners.required_reviewers)


def _approver_pool(owners: RepoOwners) -> _Pool:
    return _Pool(owners.find_approver_owners_for_file, owners.approver_layers, owners.leaf_approvers,
                 owners.required_reviewers)


def _pick(pool: _Pool, files: list[str], author: str, wanted: int,
          rng: random.Random) -> tuple[list[str], set[str]]:
    """(chosen, required reviewers of the OWNERS files touched)."""
    authors = {norm_login(author)}
    chosen = _LayeredSet()
    leaves = _LayeredSet()
    seen: set[str] = set()
    required: set[str] = set()
    if wanted <= 0:
        return [], required
    # One reviewer from each OWNERS file the PR touches.
    for path in files:
        unit = pool.owners_for(path)
        if unit in seen:
            continue
        seen.add(unit)
        required |= pool.required(path)
        unused = _LayeredSet([pool.leaf(path)]).without(chosen.items() | authors)
        if not len(unused):
            continue
        leaves = leaves.union(unused)
        chosen.insert(0, unused.pop_random(rng))
    # More leaf reviewers, then inherited ones, closest first.
    unused_leaves = leaves.without(chosen.items())
    while len(chosen) < wanted and len(unused_leaves):
        chosen.insert(1, unused_leaves.pop_random(rng))
    for path in files:
        if len(chosen) >= wanted:
            break
        candidates = _LayeredSet(pool.layers(path)).without(authors)
        while len(chosen) < wanted and len(candidates):
            chosen.insert(2, candidates.pop_random(rng))
    return chosen.as_list(), required


def choose_reviewers(owners: RepoOwners, files: list[str], author: str, opts: BlunderbussOptions,
                     rng: random.Random) -> list[str]:
    """Whom to request reviews from, in Prow's order (without the PR's author)."""
    reviewers, required = _pick(_reviewer_pool(owners), files, author, opts.request_count, rng)
    if len(reviewers) < opts.request_count and not opts.exclude_approvers:
        # The same count again, not only what is missing: people can be both reviewers and approvers.
        for approver in _pick(_approver_pool(owners), files, author, opts.request_count, rng)[0]:
            if approver not in reviewers:
                reviewers.append(approver)
    if opts.max_request_count > 0:
        reviewers = reviewers[:opts.max_request_count]
    required.discard(norm_login(author))
    return reviewers + [login for login in sorted(required) if login not in reviewers]
