"""The plugin framework: a registry of plugins by name, their help, and what a handler gets to work with.

A plugin is one module under `shared/plugins/` that registers itself when imported (as Prow's plugins
do in `init()`):

    from shared.events import GenericCommentEvent
    from shared.plugins.registry import Command, Plugin, PluginHelp, register

    def _help(plugin_config, enabled_repos):          # Prow's HelpProvider
        return PluginHelp("What it does.", commands=[Command("/cmd", "Does it.", ["/cmd"], "Anyone")])

    PLUGIN = register(Plugin("name", _help))

    @PLUGIN.on(GenericCommentEvent)                   # any event type of shared.events
    def handle(ctx, event):                           # ctx: PluginContext
        ...

Handlers call GitHub only through `ctx.github` (the event's session of the one GitHub client) and
let its errors propagate: the dispatcher retries transient errors, defers rate limits and logs
terminal errors. Handlers must be idempotent, because a delivery whose plugins failed part-way runs
again: check state before changing it, and wrap effects that cannot be repeated harmlessly (a
comment) in `ctx.once(step, ...)`, which skips a step an earlier attempt of the delivery completed.
`ctx.create_comment_once(...)` does that for comments (and copes with a post whose answer was lost).
Plugins never import azure.functions.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Protocol, TypeVar

from shared.events import (GenericCommentEvent, IssueCommentEvent, IssueEvent, PullRequestEvent, PushEvent,
                           ReviewCommentEvent, ReviewEvent, StatusEvent, norm_login)

T = TypeVar("T")

# Every plugin name Prow's hook registers (pkg/hook/plugin-imports and each plugin's pluginName), so
# that a migrated plugins.yaml is recognised whether or not this app implements the plugin yet.
PROW_PLUGIN_NAMES: frozenset[str] = frozenset({
    "approve", "assign", "blockade", "blunderbuss", "branchcleaner", "bugzilla", "buildifier", "cat",
    "cherry-pick-approved", "cherry-pick-unapproved", "cla", "config-updater", "dco", "dog", "golint", "goose",
    "heart", "help", "hold", "invalidcommitmsg", "issue-management", "jira", "label", "lgtm", "lifecycle",
    "merge-method-comment", "mergecommitblocker", "milestone", "milestoneapplier", "milestonestatus",
    "override", "owners-label", "pony", "project", "project-manager", "release-note",
    "require-matching-label", "retitle", "shrug", "sigmention", "size", "skip", "slackevents", "stage",
    "testfreeze", "trick-or-treat", "trigger", "verify-owners", "welcome", "wip", "yuks",
})
# Names older Prow releases registered, mapped to what replaced them. Configs still list them
# (metal3 lists transfer-issue); Prow's hook ignores them, so they are accepted with a notice.
RENAMED_PLUGIN_NAMES: Mapping[str, str] = {"transfer-issue": "issue-management"}

# Event types a plugin can handle, in the order and with the names Prow's help reports them
# (plugins.EventsForPlugin).
EVENT_HELP_NAMES: dict[type, str] = {
    IssueEvent: "issue",
    IssueCommentEvent: "issue_comment",
    PullRequestEvent: "pull_request",
    PushEvent: "push",
    ReviewEvent: "pull_request_review",
    ReviewCommentEvent: "pull_request_review_comment",
    StatusEvent: "status",
    GenericCommentEvent: "GenericCommentEvent (any event for user text)",
}


# -- help ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Command:
    """One command of a plugin (pluginhelp.Command)."""

    usage: str
    description: str
    examples: tuple[str, ...] | list[str] = ()
    who_can_use: str = ""
    featured: bool = False

    def to_json(self) -> dict:
        return {"Usage": self.usage, "Featured": self.featured, "Description": self.description,
                "Examples": list(self.examples) or None, "WhoCanUse": self.who_can_use}


@dataclass
class PluginHelp:
    """A plugin's help (pluginhelp.PluginHelp). `config` maps "org/repo" (or "" for all) to HTML
    describing the effective configuration; `events` is filled in from the registered handlers."""

    description: str
    config: dict[str, str] | None = None
    snippet: str = ""
    commands: list[Command] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        """Prow's JSON (Go field names; nil maps and slices as null, Snippet only when set)."""
        out: dict[str, Any] = {"Description": self.description, "Config": self.config or None}
        if self.snippet:
            out["Snippet"] = self.snippet
        out["Events"] = list(self.events) or None
        out["Commands"] = [c.to_json() for c in self.commands] or None
        return out


# (plugin config, enabled "org/repo" names) -> PluginHelp
HelpProvider = Callable[[Any, list[str]], PluginHelp]
Handler = Callable[["PluginContext", Any], None]


# -- plugins and the registry -----------------------------------------------------------------------------

class Plugin:
    """A named plugin: its handlers by event type and its help provider."""

    def __init__(self, name: str, help: HelpProvider):
        self.name = name
        self.help_provider = help
        self.handlers: dict[type, Handler] = {}

    def on(self, event_type: type) -> Callable[[Handler], Handler]:
        """Decorator: register the handler for one event type of shared.events."""
        if event_type not in EVENT_HELP_NAMES:
            raise ValueError(f"plugin {self.name}: {event_type!r} is not an event type plugins can handle")

        def register_handler(fn: Handler) -> Handler:
            if event_type in self.handlers:
                raise ValueError(f"plugin {self.name} already handles {event_type.__name__}")
            self.handlers[event_type] = fn
            return fn
        return register_handler

    def handler_for(self, event: Any) -> Handler | None:
        return self.handlers.get(type(event))

    @property
    def events(self) -> list[str]:
        return [name for kind, name in EVENT_HELP_NAMES.items() if kind in self.handlers]

    def help(self, plugin_config: Any, enabled_repos: list[str]) -> PluginHelp:
        help_ = self.help_provider(plugin_config, enabled_repos)
        help_.events = self.events
        return help_

    def __repr__(self) -> str:
        return f"Plugin({self.name!r}, events={self.events})"


class Registry:
    def __init__(self) -> None:
        self._plugins: dict[str, Plugin] = {}

    def register(self, plugin: Plugin) -> Plugin:
        existing = self._plugins.get(plugin.name)
        if existing is not None and existing is not plugin:
            raise ValueError(f"a plugin named {plugin.name!r} is already registered")
        self._plugins[plugin.name] = plugin
        return plugin

    def get(self, name: str) -> Plugin | None:
        return self._plugins.get(name)

    def names(self) -> list[str]:
        return sorted(self._plugins)

    def plugins(self) -> list[Plugin]:
        return [self._plugins[name] for name in self.names()]

    def __contains__(self, name: str) -> bool:
        return name in self._plugins


REGISTRY = Registry()


def register(plugin: Plugin) -> Plugin:
    """Register `plugin` in the app's registry (called at import of the plugin's module)."""
    return REGISTRY.register(plugin)


# -- what a handler works with --------------------------------------------------------------------------

class StepJournal(Protocol):
    """Steps of one plugin's handling of one delivery that completed, across attempts."""

    def done(self, step: str) -> bool: ...

    def record(self, step: str) -> None: ...


class MemoryJournal:
    """A journal that lives for one attempt (tests, and plugins run outside dispatch)."""

    def __init__(self, done: Iterable[str] = ()):
        self.steps = set(done)

    def done(self, step: str) -> bool:
        return step in self.steps

    def record(self, step: str) -> None:
        self.steps.add(step)


def _field(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def comment_author(comment: Any) -> str:
    """The login of a comment as the GitHub client returns it (object or JSON)."""
    user = _field(comment, "user")
    login = _field(user, "login") if user is not None else None
    return login if isinstance(login, str) else _field(comment, "user_login", "") or ""


class CommentPruner:
    """Prow's commentpruner.EventClient: the bot's comments on one issue, listed once, deleted by
    predicate. A comment already gone counts as deleted."""

    def __init__(self, ctx: "PluginContext", org: str, repo: str, number: int):
        self.ctx, self.org, self.repo, self.number = ctx, org, repo, number
        self._comments: list | None = None

    def prune(self, should_prune: Callable[[Any], bool]) -> int:
        """Delete the bot's comments for which `should_prune(comment)` is true; returns how many."""
        from shared.github.errors import NotFound
        if self._comments is None:
            listed = self.ctx.github.list_issue_comments(self.org, self.repo, self.number)
            self._comments = [c for c in listed if self.ctx.is_bot(comment_author(c))]
        remaining, deleted = [], 0
        for comment in self._comments:
            if should_prune(comment):
                try:
                    self.ctx.github.delete_comment(self.org, self.repo, _field(comment, "id"))
                except NotFound:
                    pass
                deleted += 1
                continue
            remaining.append(comment)
        self._comments = remaining
        return deleted


class PluginContext:
    """What one plugin's handler gets for one event (Prow's plugins.Agent)."""

    def __init__(self, *, plugin: str, delivery_id: str, github: Any, config: Any, log: logging.LoggerAdapter,
                 journal: StepJournal | None = None):
        self.plugin = plugin
        self.delivery_id = delivery_id
        self.github = github                 # shared.github EventSession of this delivery
        self.config = config                 # LoadedConfig: .prow, .jobs, .plugins
        self.log = log
        self.journal = journal or MemoryJournal()
        self._pruners: dict[tuple[str, str, int], CommentPruner] = {}
        self._bot: str | None = None

    @property
    def plugin_config(self) -> Any:
        """plugins.yaml (shared.config.plugins.PluginConfig)."""
        return self.config.plugins

    def bot_login(self) -> str:
        if self._bot is None:
            self._bot = self.github.bot_login()
        return self._bot

    def is_bot(self, login: str) -> bool:
        """Prow's BotUserChecker: the bot's login, with or without a GitHub App's `[bot]` suffix."""
        bot = norm_login(self.bot_login()).removesuffix("[bot]")
        return bool(login) and norm_login(login).removesuffix("[bot]") == bot

    def once(self, step: str, action: Callable[[], T]) -> T | None:
        """Run `action` unless an earlier attempt of this delivery completed `step`; record it when done.

        For effects that repeat visibly (a comment): a retried delivery must not post it twice."""
        if self.journal.done(step):
            self.log.info("step %s already done by an earlier attempt", step)
            return None
        result = action()
        self.journal.record(step)
        return result

    def create_comment_once(self, org: str, repo: str, number: int, body: str, *, step: str = "comment") -> None:
        """Post `body` on org/repo#number at most once per delivery, across retries.

        When an earlier attempt lost GitHub's answer to the post (TransientError(ambiguous=True)), the
        bot's comments are checked for the same text before posting again."""
        from shared.github.errors import TransientError
        if self.journal.done(step):
            self.log.info("%s already posted by an earlier attempt", step)
            return
        if self.journal.done(step + "?"):
            for comment in self.github.list_issue_comments(org, repo, number):
                if comment_body(comment) == body and self.is_bot(comment_author(comment)):
                    self.journal.record(step)
                    return
        try:
            self.github.create_comment(org, repo, number, body)
        except TransientError as exc:
            if exc.ambiguous:
                self.journal.record(step + "?")
            raise
        self.journal.record(step)

    def best_effort(self, what: str, action: Callable[[], T]) -> T | None:
        """Run `action`; a terminal GitHub error (404, 422, 403, ...) is logged and swallowed, as Prow's
        plugins log and carry on. Rate limits and transient errors still propagate (deferred/retried)."""
        from shared.github.errors import GitHubError, RateLimited, TransientError
        try:
            return action()
        except (RateLimited, TransientError):
            raise
        except GitHubError as exc:
            self.log.error("%s failed: %s", what, exc)
            return None

    def prune_comments(self, org: str, repo: str, number: int, should_prune: Callable[[Any], bool]) -> int:
        """Delete the bot's comments on org/repo#number matching `should_prune` (comments listed once)."""
        key = (org, repo, number)
        if key not in self._pruners:
            self._pruners[key] = CommentPruner(self, org, repo, number)
        return self._pruners[key].prune(should_prune)


def comment_body(comment: Any) -> str:
    body = _field(comment, "body", "")
    return body if isinstance(body, str) else ""
