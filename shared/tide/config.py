"""The `tide:` and `branch-protection:` sections of config.yaml, read as Prow reads them
(pkg/config/tide.go, pkg/config/branch_protection.go), for the parts Tide uses.

Every lookup that Prow keys by `*`, org, `org/repo` (or a branch) resolves the most specific key first.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

MERGE, SQUASH, REBASE = "merge", "squash", "rebase"
MERGE_METHODS = (MERGE, SQUASH, REBASE)


def _list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value or []]


@dataclass(frozen=True)
class TideQuery:
    """One entry of `tide.queries`, with Prow's YAML names."""
    orgs: tuple[str, ...] = ()
    repos: tuple[str, ...] = ()
    excluded_repos: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    missing_labels: tuple[str, ...] = ()
    author: str = ""
    milestone: str = ""
    review_approved_required: bool = False
    included_branches: tuple[str, ...] = ()
    excluded_branches: tuple[str, ...] = ()

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> "TideQuery":
        return cls(orgs=tuple(_list(raw.get("orgs"))), repos=tuple(_list(raw.get("repos"))),
                   excluded_repos=tuple(_list(raw.get("excludedRepos"))), labels=tuple(_list(raw.get("labels"))),
                   missing_labels=tuple(_list(raw.get("missingLabels"))), author=str(raw.get("author") or ""),
                   milestone=str(raw.get("milestone") or ""),
                   review_approved_required=bool(raw.get("reviewApprovedRequired")),
                   included_branches=tuple(_list(raw.get("includedBranches"))),
                   excluded_branches=tuple(_list(raw.get("excludedBranches"))))

    def to_json(self) -> dict[str, Any]:
        """Prow's JSON for deck's `TideQueries` (omitempty)."""
        out: dict[str, Any] = {}
        for key, value in (("orgs", self.orgs), ("repos", self.repos), ("excludedRepos", self.excluded_repos),
                           ("author", self.author), ("labels", self.labels), ("missingLabels", self.missing_labels),
                           ("excludedBranches", self.excluded_branches),
                           ("includedBranches", self.included_branches), ("milestone", self.milestone),
                           ("reviewApprovedRequired", self.review_approved_required)):
            if value:
                out[key] = list(value) if isinstance(value, tuple) else value
        return out

    def covers(self, org: str, repo: str) -> bool:
        full = f"{org}/{repo}".lower()
        if full in {r.lower() for r in self.excluded_repos}:
            return False
        return full in {r.lower() for r in self.repos} or org.lower() in {o.lower() for o in self.orgs}

    def search_string(self) -> str:
        """Prow's TideQuery.Query() (without the `updated:` window, which only GitHub's 1000-result cap needs)."""
        toks = ["is:pr", "state:open", "archived:false"]
        if self.author:
            toks.append(f'author:"{self.author}"')
        toks += [f'-base:"{b}"' for b in self.excluded_branches]
        toks += [f'base:"{b}"' for b in self.included_branches]
        for label in self.labels:
            toks.append("label:" + ",".join(f'"{alt}"' for alt in label.split(",")))
        toks += [f'-label:"{label}"' for label in self.missing_labels]
        if self.milestone:
            toks.append(f'milestone:"{self.milestone}"')
        if self.review_approved_required:
            toks.append("review:approved")
        toks += [f'org:"{o}"' for o in self.orgs]
        toks += [f'repo:"{r}"' for r in self.repos]
        toks += [f'-repo:"{r}"' for r in self.excluded_repos]
        return " ".join(toks)


@dataclass(frozen=True)
class ContextPolicy:
    required: frozenset[str] = frozenset()
    required_if_present: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    optional_regex: tuple[Any, ...] = ()
    skip_unknown: bool = False

    def is_optional(self, context: str) -> bool:
        """Prow's IsOptional: listed optional or matching an optional regex; else required ones are not;
        else unknown contexts are optional only with skip-unknown-contexts."""
        if context in self.optional or any(r.search(context) for r in self.optional_regex):
            return True
        if context in self.required or context in self.required_if_present:
            return False
        return self.skip_unknown

    def missing_required(self, present: set[str]) -> list[str]:
        return sorted(c for c in self.required if c not in present)


@dataclass
class TideConfig:
    raw: Mapping[str, Any]
    branch_protection: Mapping[str, Any]
    queries: list[TideQuery] = field(default_factory=list)

    @classmethod
    def from_prow(cls, prow_raw: Mapping[str, Any]) -> "TideConfig":
        raw = prow_raw.get("tide") or {}
        raw = raw if isinstance(raw, Mapping) else {}
        queries = [TideQuery.parse(q) for q in raw.get("queries") or [] if isinstance(q, Mapping)]
        protection = prow_raw.get("branch-protection") or {}
        return cls(raw=raw, branch_protection=protection if isinstance(protection, Mapping) else {}, queries=queries)

    # -- keyed lookups

    def _keyed(self, key: str, org: str, repo: str, default: Any) -> Any:
        table = self.raw.get(key) or {}
        if not isinstance(table, Mapping):
            return table if table not in (None, "") else default
        for k in (f"{org}/{repo}", org, "*"):
            if k in table:
                return table[k]
        return default

    def batch_size_limit(self, org: str, repo: str) -> int:
        return int(self._keyed("batch_size_limit", org, repo, 0) or 0)

    def prioritize_existing_batches(self, org: str, repo: str) -> bool:
        return bool(self._keyed("prioritize_existing_batches", org, repo, True))

    def merge_method(self, org: str, repo: str, branch: str) -> str:
        """`merge_method`: `org/repo@branch`, `org/repo` (a method, or {branch-regex: method}),
        `org` (a method, or {repo: method | {branch-regex: method}}); `merge` by default."""
        table = self.raw.get("merge_method") or {}

        def by_branch(value: Any) -> str | None:
            if isinstance(value, str):
                return value
            if isinstance(value, Mapping):
                for pattern, method in value.items():
                    if re.fullmatch(str(pattern), branch):
                        return str(method)
            return None

        if f"{org}/{repo}@{branch}" in table:
            return str(table[f"{org}/{repo}@{branch}"])
        if f"{org}/{repo}" in table and (found := by_branch(table[f"{org}/{repo}"])):
            return found
        value = table.get(org)
        if isinstance(value, Mapping) and repo in value and (found := by_branch(value[repo])):
            return found
        if isinstance(value, str):
            return value
        return MERGE

    def override_labels(self) -> dict[str, str]:
        """label -> merge method, for the labels set in the config."""
        return {self.raw[key]: method for key, method in (("squash_label", SQUASH), ("rebase_label", REBASE),
                                                          ("merge_label", MERGE)) if self.raw.get(key)}

    def merge_commit_template(self, org: str, repo: str) -> Mapping[str, str]:
        table = self.raw.get("merge_commit_template") or {}
        value = table.get(f"{org}/{repo}") or table.get(org) or {}
        return value if isinstance(value, Mapping) else {}

    @property
    def blocker_label(self) -> str:
        return str(self.raw.get("blocker_label") or "")

    @property
    def priority(self) -> list[list[str]]:
        return [_list(p.get("labels")) for p in self.raw.get("priority") or [] if isinstance(p, Mapping)]

    @property
    def display_all_queries(self) -> bool:
        return bool(self.raw.get("display_all_tide_queries_in_status"))

    def target_url(self, org: str, repo: str) -> str:
        urls = self.raw.get("target_urls") or {}
        for k in (f"{org}/{repo}", org, "*"):
            if isinstance(urls, Mapping) and urls.get(k):
                return str(urls[k])
        return str(self.raw.get("target_url") or "")

    def pr_status_base_url(self, org: str, repo: str) -> str:
        urls = self.raw.get("pr_status_base_urls") or {}
        for k in (f"{org}/{repo}", org, "*"):
            if isinstance(urls, Mapping) and urls.get(k):
                return str(urls[k])
        return str(self.raw.get("pr_status_base_url") or "")

    # -- contexts

    def _policy_layers(self, org: str, repo: str, branch: str) -> list[Mapping[str, Any]]:
        options = self.raw.get("context_options") or {}
        layers = [options]
        org_opts = (options.get("orgs") or {}).get(org) or {}
        layers.append(org_opts)
        repo_opts = (org_opts.get("repos") or {}).get(repo) or {}
        layers.append(repo_opts)
        layers.append((repo_opts.get("branches") or {}).get(branch) or {})
        return [layer for layer in layers if isinstance(layer, Mapping)]

    def protected_contexts(self, org: str, repo: str, branch: str) -> list[str]:
        """Required status checks of Prow's `branch-protection:` policy for the branch (lists union,
        `protect` overrides), when the branch is protected."""
        bp = self.branch_protection
        org_bp = (bp.get("orgs") or {}).get(org) or {}
        repo_bp = (org_bp.get("repos") or {}).get(repo) or {}
        branch_bp = (repo_bp.get("branches") or {}).get(branch) or {}
        protect, contexts = None, []
        for layer in (bp, org_bp, repo_bp, branch_bp):
            if not isinstance(layer, Mapping):
                continue
            if layer.get("protect") is not None:
                protect = bool(layer["protect"])
            contexts += _list((layer.get("required_status_checks") or {}).get("contexts"))
        if protect is None:
            protect = bool(contexts)
        return contexts if protect else []

    def context_policy(self, org: str, repo: str, branch: str, presubmits: list) -> ContextPolicy:
        """Prow's GetTideContextPolicy: config lists, the branch's presubmits, and branch protection."""
        required: set[str] = set()
        if_present: set[str] = set()
        optional: set[str] = set()
        regexes: list[Any] = []
        skip_unknown = from_protection = False
        for layer in self._policy_layers(org, repo, branch):
            required |= set(_list(layer.get("required-contexts")))
            if_present |= set(_list(layer.get("required-if-present-contexts")))
            optional |= set(_list(layer.get("optional-contexts")))
            regexes += [re.compile(p) for p in _list(layer.get("optional-regex-contexts"))]
            if layer.get("skip-unknown-contexts") is not None:
                skip_unknown = bool(layer["skip-unknown-contexts"])
            if layer.get("from-branch-protection") is not None:
                from_protection = bool(layer["from-branch-protection"])
        for job in presubmits:
            if not job.could_run(branch):
                continue
            if job.context_required():
                (if_present if job.triggers_conditionally() else required).add(job.context)
            else:
                optional.add(job.context)
        if from_protection:
            required |= set(self.protected_contexts(org, repo, branch))
        return ContextPolicy(frozenset(required), frozenset(if_present), frozenset(optional), tuple(regexes),
                             skip_unknown)
