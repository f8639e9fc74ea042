"""One GraphQL search for every open PR in the repositories the queries cover, bringing what Tide needs
of each PR in the same request: labels, milestone, author, head and base (with the base branch's current
tip, so no REST read of the branch ref is needed), mergeability, review decision, the repository's merge
settings, changed files and the head commit's status contexts and check runs. Blocker issues come in the
same first request (a second `search` alias). Prow instead runs one search per query for the pool, one
per org for the status loop, and reads each branch ref and repository over REST.

The queries are then matched here, locally, against each PR (`matches`), as GitHub's search would.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .config import TideConfig, TideQuery

PAGE_SIZE = 100
_PR_FIELDS = """
      ... on PullRequest {
        number title body url updatedAt isDraft
        author { login }
        baseRefName headRefName headRefOid mergeable mergeStateStatus reviewDecision
        baseRef { target { oid } }
        repository { name owner { login } mergeCommitAllowed squashMergeAllowed rebaseMergeAllowed }
        labels(first: 100) { nodes { name } }
        milestone { title }
        files(first: 100) { totalCount nodes { path } }
        commits(last: 1) { nodes { commit { oid statusCheckRollup { contexts(first: 100) { nodes {
          __typename
          ... on StatusContext { context state description targetUrl }
          ... on CheckRun { name status conclusion }
        } } } } } }
      }"""
_BLOCKER_FIELDS = "... on Issue { number title url repository { name owner { login } } }"


@dataclass
class Context:
    name: str
    state: str            # success | pending | failure | error (lower case, as Prow's status states)
    description: str = ""


@dataclass
class PullRequest:
    org: str
    repo: str
    number: int
    title: str
    body: str
    author: str
    base_ref: str
    base_sha: str         # the base branch's tip now (not the PR's merge base)
    head_ref: str
    head_sha: str
    mergeable: str        # MERGEABLE | CONFLICTING | UNKNOWN
    merge_state: str
    review_decision: str
    labels: list[str]
    milestone: str
    url: str
    updated_at: str
    files: list[str] | None        # None: more than the search brought (read over REST when needed)
    contexts: list[Context]
    merge_allowed: dict[str, bool] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.org}/{self.repo}#{self.number}"

    @property
    def full_repo(self) -> str:
        return f"{self.org}/{self.repo}"

    def has_label(self, label: str) -> bool:
        return label in self.labels


@dataclass
class Blocker:
    org: str
    repo: str
    number: int
    title: str
    url: str

    def branches(self) -> set[str]:
        """Branches named in the title as `branch:<name>` (none: the whole repository is blocked)."""
        return set(re.findall(r"(?i)\bbranch:[^\w-]*([\w./-]+)\b", self.title))


def _check_run_state(status: str, conclusion: str | None) -> str:
    if (status or "").upper() != "COMPLETED":
        return "pending"
    return "success" if (conclusion or "").upper() in ("SUCCESS", "NEUTRAL", "SKIPPED") else "failure"


_RANK = {"success": 3, "pending": 2}


def _contexts(nodes: list[dict]) -> list[Context]:
    """Status contexts and check runs as contexts; of duplicates the best state wins."""
    best: dict[str, Context] = {}
    for node in nodes:
        if node.get("__typename") == "CheckRun":
            found = Context(node.get("name") or "", _check_run_state(node.get("status"), node.get("conclusion")))
        else:
            found = Context(node.get("context") or "", (node.get("state") or "").lower(),
                            node.get("description") or "")
        known = best.get(found.name)
        if known is None or _RANK.get(found.state, 1) > _RANK.get(known.state, 1):
            best[found.name] = found
    return list(best.values())


def parse_pull(node: dict) -> PullRequest:
    repo = node.get("repository") or {}
    commit = (((node.get("commits") or {}).get("nodes") or [{}])[-1] or {}).get("commit") or {}
    rollup = commit.get("statusCheckRollup") or {}
    files = node.get("files") or {}
    paths = [f["path"] for f in files.get("nodes") or []]
    return PullRequest(
        org=(repo.get("owner") or {}).get("login", ""), repo=repo.get("name", ""), number=int(node["number"]),
        title=node.get("title") or "", body=node.get("body") or "", author=(node.get("author") or {}).get("login", ""),
        base_ref=node.get("baseRefName") or "", base_sha=((node.get("baseRef") or {}).get("target") or {}).get("oid", ""),
        head_ref=node.get("headRefName") or "", head_sha=node.get("headRefOid") or "",
        mergeable=node.get("mergeable") or "UNKNOWN", merge_state=node.get("mergeStateStatus") or "",
        review_decision=node.get("reviewDecision") or "",
        labels=[label["name"] for label in (node.get("labels") or {}).get("nodes") or []],
        milestone=(node.get("milestone") or {}).get("title", ""), url=node.get("url") or "",
        updated_at=node.get("updatedAt") or "",
        files=paths if files.get("totalCount", len(paths)) <= len(paths) else None,
        contexts=_contexts(((rollup.get("contexts") or {}).get("nodes")) or []),
        merge_allowed={"merge": repo.get("mergeCommitAllowed", True), "squash": repo.get("squashMergeAllowed", True),
                       "rebase": repo.get("rebaseMergeAllowed", True)})


def scope_string(queries: list[TideQuery]) -> str:
    """`is:pr state:open archived:false` over every org and repo any query covers."""
    orgs = sorted({o for q in queries for o in q.orgs})
    repos = sorted({r for q in queries for r in q.repos if r.split("/")[0] not in orgs})
    return " ".join(["is:pr", "state:open", "archived:false", *(f'org:"{o}"' for o in orgs),
                     *(f'repo:"{r}"' for r in repos)])


def blocker_string(queries: list[TideQuery], label: str) -> str:
    orgs = sorted({o for q in queries for o in q.orgs})
    repos = sorted({r for q in queries for r in q.repos if r.split("/")[0] not in orgs})
    return " ".join(["is:issue", "state:open", f'label:"{label}"', *(f'org:"{o}"' for o in orgs),
                     *(f'repo:"{r}"' for r in repos)])


def fetch(gh: Any, config: TideConfig) -> tuple[list[PullRequest], list[Blocker]]:
    """Every open PR in scope and the open blocker issues, in as few GraphQL requests as pages."""
    if not config.queries:
        return [], []
    scope = scope_string(config.queries)
    blocker_query = blocker_string(config.queries, config.blocker_label) if config.blocker_label else ""
    pulls: list[PullRequest] = []
    blockers: list[Blocker] = []
    cursor: str | None = None
    first = True
    while True:
        parts = [f"prs: search(type: ISSUE, first: {PAGE_SIZE}, after: $after, query: $q) "
                 f"{{ pageInfo {{ hasNextPage endCursor }} nodes {{ {_PR_FIELDS} }} }}"]
        variables: dict[str, Any] = {"q": scope, "after": cursor}
        if first and blocker_query:
            parts.append(f"blockers: search(type: ISSUE, first: 100, query: $b) {{ nodes {{ {_BLOCKER_FIELDS} }} }}")
            variables["b"] = blocker_query
        params = "$q: String!, $after: String" + (", $b: String!" if "b" in variables else "")
        data = gh.graphql(f"query({params}) {{ {' '.join(parts)} }}", variables)
        page = data.get("prs") or {}
        pulls += [parse_pull(node) for node in page.get("nodes") or [] if node and "number" in node]
        for node in (data.get("blockers") or {}).get("nodes") or []:
            repo = node.get("repository") or {}
            blockers.append(Blocker((repo.get("owner") or {}).get("login", ""), repo.get("name", ""),
                                    int(node["number"]), node.get("title") or "", node.get("url") or ""))
        first = False
        info = page.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return pulls, blockers
        cursor = info.get("endCursor")


def label_matches(pr: PullRequest, wanted: str) -> bool:
    """A query label; `a,b` means either."""
    return any(pr.has_label(alt) for alt in wanted.split(","))


def matches(query: TideQuery, pr: PullRequest) -> bool:
    """Whether GitHub's search for `query` would return `pr`."""
    if not query.covers(pr.org, pr.repo):
        return False
    if query.excluded_branches and pr.base_ref in query.excluded_branches:
        return False
    if query.included_branches and pr.base_ref not in query.included_branches:
        return False
    if query.author and pr.author.lower() != query.author.lower():
        return False
    if query.milestone and pr.milestone != query.milestone:
        return False
    if query.review_approved_required and pr.review_decision != "APPROVED":
        return False
    return (all(label_matches(pr, label) for label in query.labels)
            and not any(pr.has_label(label) for label in query.missing_labels))
