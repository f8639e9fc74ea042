"""Webhook payloads that @octokit/webhooks-examples lacks, built from GitHub's documented shapes
(docs.github.com "Webhook events and payloads"): issue comments on pull requests, approving and
changes-requested reviews, and issue/PR events for a repository the test chose.

Only the fields GitHub always sends for these events are filled; ids and URLs are consistent within
one builder (the comment's html_url points into the issue's html_url, ...).
"""
from __future__ import annotations

import itertools
from typing import Any

WEB = "https://github.com"
API = "https://api.github.com"
_ids = itertools.count(5_000_001)


def user(login: str, *, type: str = "User") -> dict:
    uid = next(_ids)
    return {"login": login, "id": uid, "node_id": f"U_{uid}",
            "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4", "gravatar_id": "", "url": f"{API}/users/{login}", "html_url": f"{WEB}/{login}", "type": type,
            "site_admin": False}


def repository(full_name: str, *, default_branch: str = "main", private: bool = False) -> dict:
    owner, name = full_name.split("/", 1)
    rid = next(_ids)
    return {"id": rid, "node_id": f"R_{rid}", "name": name, "full_name": full_name, "private": private,
            "owner": {**user(owner, type="Organization"), "name": owner}, "html_url": f"{WEB}/{full_name}",
            "description": None, "fork": False, "url": f"{API}/repos/{full_name}", "default_branch": default_branch,
            "archived": False, "disabled": False, "visibility": "private" if private else "public"}


def _labels(full_name: str, names) -> list[dict]:
    return [{"id": next(_ids), "name": n, "color": "ededed", "default": False, "description": None,
             "url": f"{API}/repos/{full_name}/labels/{n}"} for n in names]


def issue(full_name: str, number: int, *, author: str = "contributor", title: str = "An issue", body: str = "",
          state: str = "open", labels=(), on_pull: bool = False) -> dict:
    kind = "pull" if on_pull else "issues"
    iid = next(_ids)
    out: dict[str, Any] = {
        "url": f"{API}/repos/{full_name}/issues/{number}", "html_url": f"{WEB}/{full_name}/{kind}/{number}",
        "id": iid, "node_id": f"I_{iid}", "number": number, "title": title, "user": user(author),
        "labels": _labels(full_name, labels), "state": state, "locked": False, "assignee": None, "assignees": [],
        "milestone": None, "comments": 0, "created_at": "2026-08-01T10:00:00Z", "updated_at": "2026-08-01T10:00:00Z",
        "closed_at": None, "author_association": "CONTRIBUTOR", "body": body, "state_reason": None}
    if on_pull:
        out["pull_request"] = {"url": f"{API}/repos/{full_name}/pulls/{number}",
                               "html_url": f"{WEB}/{full_name}/pull/{number}",
                               "diff_url": f"{WEB}/{full_name}/pull/{number}.diff",
                               "patch_url": f"{WEB}/{full_name}/pull/{number}.patch", "merged_at": None}
    return out


def pull_request(full_name: str, number: int, *, author: str = "contributor", title: str = "A change",
                 body: str = "", state: str = "open", labels=(), base: str = "main", head_sha: str = "a" * 40,
                 base_sha: str = "b" * 40, draft: bool = False) -> dict:
    repo = repository(full_name)
    pid = next(_ids)
    return {
        "url": f"{API}/repos/{full_name}/pulls/{number}", "id": pid, "node_id": f"PR_{pid}",
        "html_url": f"{WEB}/{full_name}/pull/{number}", "number": number, "state": state, "locked": False,
        "title": title, "user": user(author), "body": body, "labels": _labels(full_name, labels),
        "created_at": "2026-08-01T10:00:00Z", "updated_at": "2026-08-01T10:00:00Z", "closed_at": None,
        "merged_at": None, "merge_commit_sha": None, "assignee": None, "assignees": [], "requested_reviewers": [],
        "requested_teams": [], "milestone": None, "draft": draft,
        "head": {"label": f"{repo['owner']['login']}:pr-{number}", "ref": f"pr-{number}", "sha": head_sha,
                 "user": repo["owner"], "repo": repo},
        "base": {"label": f"{repo['owner']['login']}:{base}", "ref": base, "sha": base_sha, "user": repo["owner"],
                 "repo": repo},
        "author_association": "CONTRIBUTOR", "merged": False, "mergeable": None, "comments": 0,
        "review_comments": 0, "commits": 1, "additions": 1, "deletions": 0, "changed_files": 1}


def _sender(login: str) -> dict:
    return user(login)


def issue_comment(full_name: str, number: int, body: str, *, commenter: str = "contributor",
                  issue_author: str = "contributor", on_pull: bool = False, state: str = "open", labels=(),
                  action: str = "created", comment_id: int | None = None) -> dict:
    """`issue_comment` on an issue or (on_pull=True) a pull request's conversation."""
    the_issue = issue(full_name, number, author=issue_author, state=state, labels=labels, on_pull=on_pull)
    cid = comment_id or next(_ids)
    comment = {"url": f"{API}/repos/{full_name}/issues/comments/{cid}",
               "html_url": f"{the_issue['html_url']}#issuecomment-{cid}",
               "issue_url": the_issue["url"], "id": cid, "node_id": f"IC_{cid}", "user": user(commenter),
               "created_at": "2026-08-01T11:00:00Z", "updated_at": "2026-08-01T11:00:00Z",
               "author_association": "CONTRIBUTOR", "body": body}
    payload = {"action": action, "issue": the_issue, "comment": comment, "repository": repository(full_name),
               "sender": _sender(commenter)}
    if action == "edited":
        payload["changes"] = {"body": {"from": "(before)"}}
    return payload


def issues(full_name: str, number: int, *, action: str = "opened", author: str = "contributor",
           body: str = "", state: str = "open", labels=()) -> dict:
    return {"action": action, "issue": issue(full_name, number, author=author, body=body, state=state,
                                             labels=labels),
            "repository": repository(full_name), "sender": _sender(author)}


def pull_request_event(full_name: str, number: int, *, action: str = "opened", author: str = "contributor",
                       body: str = "", **fields: Any) -> dict:
    return {"action": action, "number": number,
            "pull_request": pull_request(full_name, number, author=author, body=body, **fields),
            "repository": repository(full_name), "sender": _sender(author)}


def pull_request_review(full_name: str, number: int, *, reviewer: str = "reviewer", state: str = "approved",
                        body: str | None = None, pr_author: str = "contributor", action: str = "submitted",
                        head_sha: str = "a" * 40) -> dict:
    """`pull_request_review`: `state` as webhooks spell it (approved, changes_requested, commented)."""
    pr = pull_request(full_name, number, author=pr_author, head_sha=head_sha)
    rid = next(_ids)
    review = {"id": rid, "node_id": f"PRR_{rid}", "user": user(reviewer), "body": body, "commit_id": head_sha,
              "submitted_at": "2026-08-01T12:00:00Z", "state": state,
              "html_url": f"{pr['html_url']}#pullrequestreview-{rid}", "pull_request_url": pr["url"],
              "author_association": "MEMBER"}
    return {"action": action, "review": review, "pull_request": pr, "repository": repository(full_name),
            "sender": _sender(reviewer)}


def pull_request_review_comment(full_name: str, number: int, body: str, *, commenter: str = "reviewer",
                                pr_author: str = "contributor", action: str = "created") -> dict:
    pr = pull_request(full_name, number, author=pr_author)
    cid = next(_ids)
    comment = {"url": f"{API}/repos/{full_name}/pulls/comments/{cid}", "pull_request_review_id": next(_ids),
               "id": cid, "node_id": f"PRRC_{cid}", "diff_hunk": "@@ -1 +1 @@", "path": "README.md",
               "commit_id": pr["head"]["sha"], "original_commit_id": pr["head"]["sha"], "user": user(commenter),
               "body": body, "created_at": "2026-08-01T12:00:00Z", "updated_at": "2026-08-01T12:00:00Z",
               "html_url": f"{pr['html_url']}#discussion_r{cid}", "pull_request_url": pr["url"],
               "author_association": "MEMBER", "line": 1, "side": "RIGHT"}
    return {"action": action, "comment": comment, "pull_request": pr, "repository": repository(full_name),
            "sender": _sender(commenter)}


def push(full_name: str, *, ref: str = "refs/heads/main", after: str = "b" * 40, before: str = "a" * 40,
         commits: list[dict] | None = None, pusher: str = "pusher", created: bool = False,
         deleted: bool = False) -> dict:
    """`push`: `commits` are {"added", "removed", "modified"} dicts (ids filled in); `compare` as
    GitHub writes it (a `before...after` range, or the ref's name for a created ref)."""
    owner = full_name.split("/", 1)[0]
    listed = []
    for n, commit in enumerate(commits or []):
        sha = commit.get("id") or f"{n + 1:040x}"
        listed.append({"id": sha, "tree_id": "4b825dc642cb6eb9a060e54bf8d69288fbee4904", "distinct": True,
                       "message": commit.get("message", f"commit {n + 1}"), "timestamp": "2026-08-01T12:00:00Z",
                       "url": f"{WEB}/{full_name}/commit/{sha}",
                       "author": {"name": pusher, "email": f"{pusher}@example.com", "username": pusher},
                       "committer": {"name": pusher, "email": f"{pusher}@example.com", "username": pusher},
                       "added": list(commit.get("added", [])), "removed": list(commit.get("removed", [])),
                       "modified": list(commit.get("modified", []))})
    name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    compare = f"{WEB}/{full_name}/compare/{name if created else f'{before[:12]}...{after[:12]}'}"
    return {"ref": ref, "before": before, "after": after, "created": created, "deleted": deleted, "forced": False,
            "base_ref": None, "compare": compare, "commits": listed, "head_commit": listed[-1] if listed else None,
            "repository": repository(full_name), "pusher": {"name": pusher, "email": f"{pusher}@example.com"},
            "organization": {**user(owner, type="Organization")}, "sender": _sender(pusher)}
