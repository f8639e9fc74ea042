"""Which presubmits to run: Prow's job selection (`pkg/pjutil/filter.go`, `help.go`), for every caller
that starts presubmits (trigger, status_reconciler, tide's retests).

A filter looks at one presubmit and answers `(matches, forced, default)`: whether it takes part at all,
whether it runs whatever its file filters say, and what to do when its file filters cannot decide.
`filter_presubmits(presubmits, filter, branch=..., changes=...)` applies one (usually an aggregate,
where the first matching filter decides) and then each job's branch and file filters
(`Presubmit.should_run`). `changes` is a callable that returns the changed paths; `ChangedFiles`
makes one that reads them at most once, and only when a job's `run_if_changed` or
`skip_if_only_changed` needs them.

    changes = ChangedFiles.for_pull(gh, org, repo, number)         # read lazily, once per event
    to_run = filter_presubmits(jobs, test_all_filter, branch="main", changes=changes)
    to_run = filter_presubmits(jobs, comment_filter(body, contexts=...), branch="main", changes=changes)

The filters: a command filter (the comment matches the job's `trigger`: forced), `/retest` (jobs whose
context failed on the head commit, and the automatic ones with no status yet), `/retest-required`
(the same, required jobs only), `/test-manual-required` (required jobs that only run on request),
and `/test all` or `/ok-to-test` (every job that is not run on request only).
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Sequence

from shared.config.jobs import Presubmit

Filter = Callable[[Presubmit], tuple[bool, bool, bool]]
Contexts = Callable[[], tuple[set[str], set[str]]]     # -> (failed contexts, all contexts)

TEST_ALL_RE = re.compile(r"(?m)^/test all,?($|\s.*)")
RETEST_RE = re.compile(r"(?m)^/retest\s*$")
RETEST_REQUIRED_RE = re.compile(r"(?m)^/retest-required\s*$")
TEST_MANUAL_REQUIRED_RE = re.compile(r"(?m)^/test-manual-required\s*$")
OK_TO_TEST_RE = re.compile(r"(?m)^/ok-to-test\s*$")
OK_TO_TEST_CANCEL_RE = re.compile(r"(?m)^/ok-to-test\s+cancel\s*$")

TEST_HELP_RE = re.compile(r"(?m)^/test[ \t]*\?\s*$")
EMPTY_TEST_RE = re.compile(r"(?m)^/test\s*$")
RETEST_WITH_TARGET_RE = re.compile(r"(?m)^/retest[ \t]+\S+")
TEST_WITH_ANY_TARGET_RE = re.compile(r"(?m)^/test[ \t]+\S+")
TEST_OR_RETEST_RE = re.compile(r"(?m)^/(?:re)?test\b")

TEST_WITHOUT_TARGET_NOTE = "The `/test` command needs one or more targets.\n"
RETEST_WITH_TARGET_NOTE = "The `/retest` command does not accept any targets.\n"
TARGET_NOT_FOUND_NOTE = "The specified target(s) for `/test` were not found.\n"
NO_TEST_ALL_JOBS_NOTE = "No jobs can be run with `/test all`.\n"
REQUIRED_HEADER = "The following commands are available to trigger required jobs:"
OPTIONAL_HEADER = "The following commands are available to trigger optional jobs:"
TEST_ALL_EVERYTHING = "Use `/test all` to run all jobs.\n"
TEST_ALL_SOME_HEADER = "Use `/test all` to run the following jobs that were automatically triggered:"
_HELP_MARKERS = (TEST_WITHOUT_TARGET_NOTE, RETEST_WITH_TARGET_NOTE, TARGET_NOT_FOUND_NOTE, NO_TEST_ALL_JOBS_NOTE,
                 REQUIRED_HEADER, OPTIONAL_HEADER, TEST_ALL_EVERYTHING, TEST_ALL_SOME_HEADER)

_CODE_BLOCK_RE = re.compile(r"(?ms)^```.*?(?:\n```\n|\n```$)|^~~~.*?(?:\n~~~\n|\n~~~$)")


def drop_code_blocks(body: str) -> str:
    """Prow's markdown.DropCodeBlock: fenced blocks (``` or ~~~) removed, so quoted commands do not count."""
    return _CODE_BLOCK_RE.sub("", body)


# -- changed files ---------------------------------------------------------------------------------

class ChangedFiles:
    """The changed paths of one change, read on first use and then remembered."""

    def __init__(self, read: Callable[[], Iterable[str]]):
        self._read = read
        self._paths: list[str] | None = None

    @classmethod
    def for_pull(cls, gh, org: str, repo: str, number: int) -> "ChangedFiles":
        """A PR's files (all pages; a rename counts as its new name only)."""
        return cls(lambda: [f["filename"] for f in gh.list_pull_files(org, repo, number) if f.get("filename")])

    @classmethod
    def of(cls, paths: Iterable[str]) -> "ChangedFiles":
        paths = list(paths)
        return cls(lambda: paths)

    @property
    def read(self) -> bool:
        return self._paths is not None

    def __call__(self) -> list[str]:
        if self._paths is None:
            self._paths = list(self._read())
        return self._paths


# -- filters ---------------------------------------------------------------------------------------

def command_filter(body: str) -> Filter:
    """`/test <name>`: the jobs whose trigger matches the text run, forced."""
    def check(job: Presubmit) -> tuple[bool, bool, bool]:
        matched = job.trigger_matches(body)
        return matched, matched, True
    return check


def test_all_filter(job: Presubmit) -> tuple[bool, bool, bool]:
    """`/test all`, `/ok-to-test` and PR events: every job not run on request only, by its file filters."""
    return not job.needs_explicit_trigger(), False, False


def retest_filter(failed: set[str], seen: set[str]) -> Filter:
    def check(job: Presubmit) -> tuple[bool, bool, bool]:
        context = job.context or job.name
        was_failed = context in failed
        return was_failed or (not job.needs_explicit_trigger() and context not in seen), False, was_failed
    return check


def retest_required_filter(failed: set[str], seen: set[str]) -> Filter:
    retest = retest_filter(failed, seen)
    return lambda job: (False, False, False) if job.optional else retest(job)


def test_manual_required_filter(job: Presubmit) -> tuple[bool, bool, bool]:
    return (not job.optional and job.needs_explicit_trigger() and not job.changes.could_run()), True, False


def aggregate(filters: Sequence[Filter]) -> Filter:
    """The first filter that matches a job decides for it."""
    def check(job: Presubmit) -> tuple[bool, bool, bool]:
        for each in filters:
            matched, forced, default = each(job)
            if matched:
                return matched, forced, default
        return False, False, False
    return check


def comment_filter(body: str, *, contexts: Contexts, honor_ok_to_test: bool = True) -> Filter:
    """Prow's PresubmitFilter for a comment; `contexts` is called (once) only for `/retest` forms."""
    filters: list[Filter] = [command_filter(body)]
    read: list[tuple[set[str], set[str]]] = []

    def statuses() -> tuple[set[str], set[str]]:
        if not read:
            read.append(contexts())
        return read[0]

    if RETEST_RE.search(body):
        filters.append(retest_filter(*statuses()))
    if RETEST_REQUIRED_RE.search(body):
        filters.append(retest_required_filter(*statuses()))
    if TEST_MANUAL_REQUIRED_RE.search(body):
        filters.append(test_manual_required_filter)
    if (honor_ok_to_test and OK_TO_TEST_RE.search(body)) or TEST_ALL_RE.search(body):
        filters.append(test_all_filter)
    return aggregate(filters)


def contexts_of(combined_status: dict) -> tuple[set[str], set[str]]:
    """(failed, all) contexts of a combined status (failed = `failure` or `error`)."""
    failed, seen = set(), set()
    for status in (combined_status or {}).get("statuses") or []:
        context = status.get("context", "")
        seen.add(context)
        if status.get("state") in ("failure", "error"):
            failed.add(context)
    return failed, seen


def filter_presubmits(presubmits: Iterable[Presubmit], filter: Filter, *, branch: str,
                      changes: Callable[[], Iterable[str]]) -> list[Presubmit]:
    """The presubmits `filter` selects that should run on `branch` with `changes` (Prow's
    FilterPresubmits with Presubmit.ShouldRun). The changes are only asked for when a job's file
    filters decide."""
    selected = []
    for job in presubmits:
        matched, forced, default = filter(job)
        if not matched or not job.could_run(branch):
            continue
        if job.always_run or forced or default or job.should_run(branch, changes, forced, default):
            selected.append(job)
    return selected


# -- help ------------------------------------------------------------------------------------------

def may_need_help(text: str) -> bool:
    return bool(EMPTY_TEST_RE.search(text) or RETEST_WITH_TARGET_RE.search(text)
                or TEST_WITH_ANY_TARGET_RE.search(text) or TEST_HELP_RE.search(text))


def help_note(text: str, selected: int) -> str | None:
    """Prow's ShouldRespondWithHelp: None when no help is due, else the note ("" for `/test ?`)."""
    if TEST_HELP_RE.search(text):
        return ""
    if EMPTY_TEST_RE.search(text):
        return TEST_WITHOUT_TARGET_NOTE
    if RETEST_WITH_TARGET_RE.search(text):
        return RETEST_WITH_TARGET_NOTE
    if selected == 0 and TEST_ALL_RE.search(text):
        return NO_TEST_ALL_JOBS_NOTE
    if selected == 0 and TEST_WITH_ANY_TARGET_RE.search(text):
        return TARGET_NOT_FOUND_NOTE
    return None


def is_help_comment(body: str) -> bool:
    return any(marker in body for marker in _HELP_MARKERS)


def available_presubmits(presubmits: Sequence[Presubmit], *, branch: str, changes: Callable[[], Iterable[str]]
                         ) -> tuple[set[str], set[str], set[str]]:
    """(names `/test all` would run, rerun commands of optional jobs, of required jobs)."""
    test_all = {job.name for job in filter_presubmits(presubmits, test_all_filter, branch=branch, changes=changes)}
    by_command = filter_presubmits(presubmits, aggregate([command_filter(job.rerun_command) for job in presubmits]),
                                   branch=branch, changes=changes)
    optional = {job.rerun_command for job in by_command if job.optional}
    required = {job.rerun_command for job in by_command if not job.optional}
    return test_all, optional, required


def help_message(org: str, repo: str, branch: str, note: str, test_all: set[str], optional: set[str],
                 required: set[str]) -> str:
    """The reply to `/test ?` and to a `/test` that selects nothing (Prow's HelpMessage)."""
    if not (test_all or optional or required):
        return f"No presubmit jobs available for {org}/{repo}@{branch}"

    def fenced(names: set[str]) -> str:
        return "".join(f"\n```\n{name}\n```" for name in sorted(names))

    text = note
    if required:
        text += f"{REQUIRED_HEADER}{fenced(required)}\n\n"
    if optional:
        text += f"{OPTIONAL_HEADER}{fenced(optional)}\n\n"
    if len(test_all) == len(optional) + len(required):
        text += TEST_ALL_EVERYTHING
    elif test_all:
        text += f"{TEST_ALL_SOME_HEADER}{fenced(test_all)}\n\n"
    return text
