"""The events plugins see: GitHub webhook payloads as typed values, and Prow's GenericCommentEvent.

Follows Prow's `pkg/github/types.go` and `pkg/hook/events.go` (spec/prow-hook-and-plugins.md §1.5):

- `issues`, `issue_comment`, `pull_request`, `pull_request_review`, `pull_request_review_comment`,
  `push` and `status` become typed events; every other event name has no internal handler (it may
  still go to external plugins).
- Each typed event names the org/repo whose `plugins:` entry decides which plugins run: the base
  repository for pull-request events, `repository.owner.name` for pushes, `repository` otherwise.
- Text that users write is also offered as a `GenericCommentEvent`: comments, review bodies, review
  comments, and issue/PR bodies when opened or edited. Actions are normalised as Prow does:
  created|opened|submitted → created, edited → edited, deleted|dismissed → deleted; other actions
  (labeled, closed, synchronize, ...) carry no user text and give no generic comment.

Missing or null fields read as Go's zero values ("" / 0 / False / empty), as Prow's JSON decoding
gives them, so a sparse payload never fails to parse.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

# Generic comment actions (github.GenericCommentEventAction).
CREATED = "created"
EDITED = "edited"
DELETED = "deleted"

_GENERIC_ACTIONS = {"created": CREATED, "opened": CREATED, "submitted": CREATED,
                    "edited": EDITED, "deleted": DELETED, "dismissed": DELETED}


def generic_comment_action(action: str) -> str:
    """Prow's GeneralizeCommentAction: the generic action, or "" when the text did not change."""
    return _GENERIC_ACTIONS.get(action, "")


# -- field readers ------------------------------------------------------------------------------------

def _d(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _s(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _i(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _b(value: Any) -> bool:
    return value if isinstance(value, bool) else False


def _l(value: Any) -> list:
    return value if isinstance(value, list) else []


def norm_login(login: str) -> str:
    """Prow's NormLogin: logins compare case-insensitively, without a leading '@'."""
    return login.lower().removeprefix("@")


# -- objects ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class User:
    login: str = ""
    id: int = 0
    type: str = ""
    name: str = ""

    @classmethod
    def of(cls, d: Any) -> "User":
        d = _d(d)
        return cls(_s(d.get("login")), _i(d.get("id")), _s(d.get("type")), _s(d.get("name")))


@dataclass(frozen=True)
class Repo:
    owner: User = field(default_factory=User)
    name: str = ""
    full_name: str = ""
    html_url: str = ""
    default_branch: str = ""
    private: bool = False
    fork: bool = False
    archived: bool = False

    @classmethod
    def of(cls, d: Any) -> "Repo":
        d = _d(d)
        return cls(User.of(d.get("owner")), _s(d.get("name")), _s(d.get("full_name")), _s(d.get("html_url")),
                   _s(d.get("default_branch")), _b(d.get("private")), _b(d.get("fork")), _b(d.get("archived")))

    @property
    def org(self) -> str:
        """The owner's login (Prow's `Repo.Owner.Login`)."""
        return self.owner.login


@dataclass(frozen=True)
class Label:
    name: str = ""
    color: str = ""
    description: str = ""

    @classmethod
    def of(cls, d: Any) -> "Label":
        d = _d(d)
        return cls(_s(d.get("name")), _s(d.get("color")), _s(d.get("description")))


def has_label(labels: tuple[Label, ...] | list[Label], name: str) -> bool:
    """Prow's github.HasLabel: case-insensitive."""
    wanted = name.lower()
    return any(label.name.lower() == wanted for label in labels)


@dataclass(frozen=True)
class Issue:
    number: int = 0
    title: str = ""
    body: str = ""
    state: str = ""
    html_url: str = ""
    user: User = field(default_factory=User)
    labels: tuple[Label, ...] = ()
    assignees: tuple[User, ...] = ()
    is_pr: bool = False
    id: int = 0
    node_id: str = ""
    state_reason: str = ""
    milestone_title: str = ""

    @classmethod
    def of(cls, d: Any) -> "Issue":
        d = _d(d)
        return cls(_i(d.get("number")), _s(d.get("title")), _s(d.get("body")), _s(d.get("state")),
                   _s(d.get("html_url")), User.of(d.get("user")), tuple(Label.of(x) for x in _l(d.get("labels"))),
                   tuple(User.of(x) for x in _l(d.get("assignees"))), d.get("pull_request") is not None,
                   _i(d.get("id")), _s(d.get("node_id")), _s(d.get("state_reason")),
                   _s(_d(d.get("milestone")).get("title")))

    def has_label(self, name: str) -> bool:
        return has_label(self.labels, name)

    def is_author(self, login: str) -> bool:
        return norm_login(self.user.login) == norm_login(login)

    def is_assignee(self, login: str) -> bool:
        return any(norm_login(a.login) == norm_login(login) for a in self.assignees)


@dataclass(frozen=True)
class Branch:
    ref: str = ""
    sha: str = ""
    repo: Repo = field(default_factory=Repo)

    @classmethod
    def of(cls, d: Any) -> "Branch":
        d = _d(d)
        return cls(_s(d.get("ref")), _s(d.get("sha")), Repo.of(d.get("repo")))


@dataclass(frozen=True)
class PullRequest:
    number: int = 0
    title: str = ""
    body: str = ""
    state: str = ""
    html_url: str = ""
    user: User = field(default_factory=User)
    labels: tuple[Label, ...] = ()
    assignees: tuple[User, ...] = ()
    requested_reviewers: tuple[User, ...] = ()
    base: Branch = field(default_factory=Branch)
    head: Branch = field(default_factory=Branch)
    draft: bool = False
    merged: bool = False
    merge_commit_sha: str = ""
    mergeable: bool | None = None
    author_association: str = ""
    id: int = 0
    node_id: str = ""

    @classmethod
    def of(cls, d: Any) -> "PullRequest":
        d = _d(d)
        mergeable = d.get("mergeable")
        return cls(_i(d.get("number")), _s(d.get("title")), _s(d.get("body")), _s(d.get("state")),
                   _s(d.get("html_url")), User.of(d.get("user")), tuple(Label.of(x) for x in _l(d.get("labels"))),
                   tuple(User.of(x) for x in _l(d.get("assignees"))),
                   tuple(User.of(x) for x in _l(d.get("requested_reviewers"))),
                   Branch.of(d.get("base")), Branch.of(d.get("head")), _b(d.get("draft")), _b(d.get("merged")),
                   _s(d.get("merge_commit_sha")), mergeable if isinstance(mergeable, bool) else None,
                   _s(d.get("author_association")), _i(d.get("id")), _s(d.get("node_id")))

    def has_label(self, name: str) -> bool:
        return has_label(self.labels, name)


@dataclass(frozen=True)
class Comment:
    """An issue comment (`issue_comment`) or a review comment (`pull_request_review_comment`)."""

    id: int = 0
    body: str = ""
    user: User = field(default_factory=User)
    html_url: str = ""
    review_id: int = 0
    path: str = ""
    node_id: str = ""

    @classmethod
    def of(cls, d: Any) -> "Comment":
        d = _d(d)
        return cls(_i(d.get("id")), _s(d.get("body")), User.of(d.get("user")), _s(d.get("html_url")),
                   _i(d.get("pull_request_review_id")), _s(d.get("path")), _s(d.get("node_id")))


@dataclass(frozen=True)
class Review:
    id: int = 0
    body: str = ""
    user: User = field(default_factory=User)
    state: str = ""               # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING (as sent)
    html_url: str = ""
    commit_id: str = ""
    node_id: str = ""

    @classmethod
    def of(cls, d: Any) -> "Review":
        d = _d(d)
        return cls(_i(d.get("id")), _s(d.get("body")), User.of(d.get("user")), _s(d.get("state")),
                   _s(d.get("html_url")), _s(d.get("commit_id")), _s(d.get("node_id")))


@dataclass(frozen=True)
class Commit:
    id: str = ""
    message: str = ""
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()

    @classmethod
    def of(cls, d: Any) -> "Commit":
        d = _d(d)
        files = lambda key: tuple(x for x in _l(d.get(key)) if isinstance(x, str))  # noqa: E731
        return cls(_s(d.get("id")), _s(d.get("message")), files("added"), files("removed"), files("modified"))


# -- events -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    """Common to every typed event: the X-GitHub-Event name, action, delivery GUID, repository, sender
    and the whole payload (for fields not modelled here)."""

    name: str
    action: str
    guid: str
    repo: Repo
    sender: User
    payload: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def plugin_scope(self) -> tuple[str, str]:
        """(org, repo) whose enabled plugins handle this event."""
        return self.repo.org, self.repo.name


@dataclass(frozen=True)
class IssueEvent(Event):
    issue: Issue = field(default_factory=Issue)
    label: Label = field(default_factory=Label)


@dataclass(frozen=True)
class IssueCommentEvent(Event):
    issue: Issue = field(default_factory=Issue)
    comment: Comment = field(default_factory=Comment)


@dataclass(frozen=True)
class _PullRequestScoped(Event):
    """Events about a pull request: plugins are those of the PR's base repository."""

    pull_request: PullRequest = field(default_factory=PullRequest)

    @property
    def plugin_scope(self) -> tuple[str, str]:
        base = self.pull_request.base.repo
        return base.org, base.name


@dataclass(frozen=True)
class PullRequestEvent(_PullRequestScoped):
    number: int = 0
    label: Label = field(default_factory=Label)


@dataclass(frozen=True)
class ReviewEvent(_PullRequestScoped):
    review: Review = field(default_factory=Review)


@dataclass(frozen=True)
class ReviewCommentEvent(_PullRequestScoped):
    comment: Comment = field(default_factory=Comment)


@dataclass(frozen=True)
class PushEvent(Event):
    ref: str = ""
    before: str = ""
    after: str = ""
    created: bool = False
    deleted: bool = False
    forced: bool = False
    compare: str = ""
    commits: tuple[Commit, ...] = ()
    pusher: User = field(default_factory=User)
    owner_name: str = ""          # repository.owner.name: Prow looks plugins up by it for pushes

    @property
    def plugin_scope(self) -> tuple[str, str]:
        return self.owner_name, self.repo.name

    @property
    def branch(self) -> str:
        """The pushed branch or tag name (refs/heads/ and refs/tags/ removed)."""
        return self.ref.removeprefix("refs/heads/").removeprefix("refs/tags/")


@dataclass(frozen=True)
class StatusEvent(Event):
    sha: str = ""
    state: str = ""
    description: str = ""
    target_url: str = ""
    id: int = 0
    context: str = ""


@dataclass(frozen=True)
class GenericCommentEvent:
    """User text from any event (Prow's github.GenericCommentEvent); `guid` is X-GitHub-Delivery."""

    action: str                   # CREATED, EDITED or DELETED
    body: str
    html_url: str
    number: int
    repo: Repo
    user: User                    # who wrote the text
    issue_author: User
    is_pr: bool
    issue_state: str
    issue_title: str
    issue_body: str
    issue_html_url: str
    guid: str
    assignees: tuple[User, ...] = ()
    id: int = 0                   # the issue's or PR's id
    comment_id: int | None = None  # set for issue comments and review comments
    source: str = ""              # the X-GitHub-Event it came from
    node_id: str = ""             # the issue's or PR's GraphQL id (Prow's NodeID)
    name = "GenericCommentEvent"

    @property
    def plugin_scope(self) -> tuple[str, str]:
        return self.repo.org, self.repo.name


@dataclass(frozen=True)
class ParsedDelivery:
    """One delivery as plugins see it: the typed event (None for event types without internal
    handlers) and the generic comment it carries (if any)."""

    name: str
    guid: str
    payload: Mapping[str, Any] = field(repr=False)
    event: Event | None = None
    generic_comment: GenericCommentEvent | None = None

    @property
    def source_repo(self) -> str:
        """`repository.full_name`: what external plugins are selected by (Prow's needDemux)."""
        return _s(_d(self.payload.get("repository")).get("full_name"))

    def events(self) -> list:
        """The events to hand to plugins, typed event first."""
        return [e for e in (self.event, self.generic_comment) if e is not None]


def _base(name: str, guid: str, payload: Mapping[str, Any]) -> dict:
    return dict(name=name, action=_s(payload.get("action")), guid=guid, repo=Repo.of(payload.get("repository")),
                sender=User.of(payload.get("sender")), payload=payload)


def parse_delivery(name: str, guid: str, payload: Mapping[str, Any]) -> ParsedDelivery:
    """Build the typed event and the generic comment event of one delivery."""
    base = _base(name, guid, payload)
    action = generic_comment_action(base["action"])
    event: Event | None = None
    comment: GenericCommentEvent | None = None
    repo = base["repo"]

    def generic(**fields: Any) -> GenericCommentEvent:
        return GenericCommentEvent(action=action, repo=repo, guid=guid, source=name, **fields)

    if name == "issues":
        issue = Issue.of(payload.get("issue"))
        event = IssueEvent(**base, issue=issue, label=Label.of(payload.get("label")))
        if action:
            comment = generic(body=issue.body, html_url=issue.html_url, number=issue.number, user=issue.user,
                              issue_author=issue.user, is_pr=issue.is_pr, issue_state=issue.state,
                              issue_title=issue.title, issue_body=issue.body, issue_html_url=issue.html_url,
                              assignees=issue.assignees, id=issue.id, node_id=issue.node_id)
    elif name == "issue_comment":
        issue = Issue.of(payload.get("issue"))
        c = Comment.of(payload.get("comment"))
        event = IssueCommentEvent(**base, issue=issue, comment=c)
        if action:
            comment = generic(body=c.body, html_url=c.html_url, number=issue.number, user=c.user,
                              issue_author=issue.user, is_pr=issue.is_pr, issue_state=issue.state,
                              issue_title=issue.title, issue_body=issue.body, issue_html_url=issue.html_url,
                              assignees=issue.assignees, id=issue.id, comment_id=c.id, node_id=issue.node_id)
    elif name == "pull_request":
        pr = PullRequest.of(payload.get("pull_request"))
        event = PullRequestEvent(**base, number=_i(payload.get("number")) or pr.number, pull_request=pr,
                                 label=Label.of(payload.get("label")))
        if action:
            comment = _pr_generic(generic, pr, body=pr.body, html_url=pr.html_url, user=pr.user)
    elif name == "pull_request_review":
        pr = PullRequest.of(payload.get("pull_request"))
        review = Review.of(payload.get("review"))
        event = ReviewEvent(**base, pull_request=pr, review=review)
        if action:
            comment = _pr_generic(generic, pr, body=review.body, html_url=review.html_url, user=review.user)
    elif name == "pull_request_review_comment":
        pr = PullRequest.of(payload.get("pull_request"))
        c = Comment.of(payload.get("comment"))
        event = ReviewCommentEvent(**base, pull_request=pr, comment=c)
        if action:
            comment = _pr_generic(generic, pr, body=c.body, html_url=c.html_url, user=c.user, comment_id=c.id)
    elif name == "push":
        owner = _d(_d(payload.get("repository")).get("owner"))
        event = PushEvent(**base, ref=_s(payload.get("ref")), before=_s(payload.get("before")),
                          after=_s(payload.get("after")), created=_b(payload.get("created")),
                          deleted=_b(payload.get("deleted")), forced=_b(payload.get("forced")),
                          compare=_s(payload.get("compare")),
                          commits=tuple(Commit.of(c) for c in _l(payload.get("commits"))),
                          pusher=User.of(payload.get("pusher")),
                          owner_name=_s(owner.get("name")) or _s(owner.get("login")))
    elif name == "status":
        event = StatusEvent(**base, sha=_s(payload.get("sha")), state=_s(payload.get("state")),
                            description=_s(payload.get("description")), target_url=_s(payload.get("target_url")),
                            id=_i(payload.get("id")), context=_s(payload.get("context")))
    return ParsedDelivery(name=name, guid=guid, payload=payload, event=event, generic_comment=comment)


def _pr_generic(generic, pr: PullRequest, *, body: str, html_url: str, user: User,
                comment_id: int | None = None) -> GenericCommentEvent:
    return generic(body=body, html_url=html_url, number=pr.number, user=user, issue_author=pr.user, is_pr=True,
                   issue_state=pr.state, issue_title=pr.title, issue_body=pr.body, issue_html_url=pr.html_url,
                   assignees=pr.assignees, id=pr.id, comment_id=comment_id, node_id=pr.node_id)
