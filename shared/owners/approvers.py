"""Which OWNERS files a change needs approval from, who approved, whom to suggest, and the
notification text (Prow's pkg/plugins/approve/approvers, spec §5.3-5.4).

    approvals = Approvals(owners, changed_files, seed=pr_number)
    approvals.add_approver("alice", url)          # as the plugin reads comments and reviews
    approvals.unapproved_files()                  # units ("dir", "" = root) still needing an approver
    approvals.is_approved()
    notification(approvals, link_url=..., org=..., repo=..., branch=...)

A unit of approval is the closest directory (below the root) whose OWNERS has approvers for a file;
a unit is approved when each of its files has one of its (inherited) approvers among the approvers
of the PR. Suggestions are a greedy cover of the unapproved units by leaf approvers, tried in the
order Prow shuffles them (Go's math/rand seeded with the PR number, see `gorand`), so the same PR
gets the same suggestions as under Prow. Prow's quirks are kept where they change what users see:
the greedy pick compares a candidate's uncovered units against the previous pick's total, and
a file under an `auto_approve_unowned_subfolders` directory is only left out of the units, not of
the files checked.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Iterable

from shared.owners.gorand import GoRand
from shared.owners.repo import RepoOwners

NOTIFICATION_NAME = "ApprovalNotifier"
DEFAULT_COMMAND_HELP_LINK = "https://go.k8s.io/bot-commands"
DEFAULT_PR_PROCESS_LINK = "https://git.k8s.io/community/contributors/guide/owners.md#the-code-review-process"
DEFAULT_LINK_URL = "https://github.com"


def _go_dir(path: str) -> str:
    """Go's filepath.Dir for clean relative paths: "a/b" -> "a", "a" -> ".", "." -> "."."""
    return path.rsplit("/", 1)[0] if "/" in path else "."


def _canonical(path: str) -> str:
    return "" if path == "." else path


class ChangeOwners:
    """The OWNERS side of one change (Prow's approvers.Owners)."""

    def __init__(self, repo: RepoOwners, filenames: Iterable[str], seed: int):
        self.repo = repo
        self.filenames = list(filenames)
        self.seed = seed
        self._units: frozenset[str] | None = None

    def unit(self, filename: str) -> str:
        return self.repo.find_approver_owners_for_file(filename)

    def owners_set(self) -> frozenset[str]:
        """The units the change needs approval from (GetOwnersSet)."""
        if self._units is None:
            units: set[str] = set()
            for name in self.filenames:
                unit = self.unit(name)
                if unit in _go_dir(_go_dir(name)) and self.repo.is_auto_approve_unowned_subfolders(unit):
                    continue
                units.add(unit)
            for directory in sorted(units):
                path = directory
                while not self.repo.is_no_parent_owners(path) and _canonical(path) != "":
                    path = _go_dir(path)
                    if _canonical(path) in units:
                        units.discard(directory)
                        break
            self._units = frozenset(units)
        return self._units

    def _by_unit(self, people: Callable[[str], frozenset[str]]) -> dict[str, set[str]]:
        units = self.owners_set()
        found: dict[str, set[str]] = {}
        for name in self.filenames:
            unit = self.unit(name)
            if unit in units:
                found.setdefault(unit, set()).update(people(name))
        return found

    def approvers(self) -> dict[str, set[str]]:
        """unit -> everyone who can approve its files (GetApprovers)."""
        return self._by_unit(self.repo.approvers_for)

    def leaf_approvers(self) -> dict[str, set[str]]:
        return self._by_unit(self.repo.leaf_approvers)

    def shuffled_approvers(self) -> list[str]:
        """Every leaf approver (once per unit), sorted, then in the order Go's Perm(seed) gives."""
        candidates = sorted(person for people in self.leaf_approvers().values() for person in people)
        return [candidates[i] for i in GoRand(self.seed).perm(len(candidates))]

    @staticmethod
    def reverse(approvers: dict[str, set[str]]) -> dict[str, set[str]]:
        """person -> the units they can approve."""
        out: dict[str, set[str]] = {}
        for unit, people in approvers.items():
            for person in people:
                out.setdefault(person, set()).add(unit)
        return out

    def unapproved_with(self, approvers: Iterable[str]) -> set[str]:
        trial = Approvals(self)
        for login in approvers:
            trial.add_approver(login, "", False)
        return trial.unapproved_files()

    def suggested(self, reverse: dict[str, set[str]], candidates: list[str]) -> set[str]:
        """Greedy cover of the units (GetSuggestedApprovers)."""
        trial = Approvals(self)
        while not trial.requirements_met():
            unapproved = trial.unapproved_files()
            current = trial.current_approvers()
            best, most = "", 0
            for person in candidates:
                units = reverse.get(person, set())
                if len(units & unapproved) > most and person not in current:
                    most, best = len(units), person
            if not best:
                break
            trial.add_approver(best, "", False)
        return trial.current_approvers()

    def keep_covering(self, reverse: dict[str, set[str]], known: set[str], candidates: list[str]) -> set[str]:
        unapproved = self.unapproved_with(known)
        return {person for person in sorted(self.suggested(reverse, candidates))
                if reverse.get(person, set()) & unapproved}


@dataclass(frozen=True)
class Approval:
    login: str       # as the user wrote it (case kept)
    how: str         # "Approved", "LGTM", "Author self-approved"
    reference: str   # link to where it happened
    no_issue: bool = False

    def __str__(self) -> str:
        return f'*<a href="{self.reference}" title="{self.how}">{self.login}</a>*'


class Approvals:
    """The approvals of one PR (Prow's approvers.Approvers)."""

    def __init__(self, owners: ChangeOwners, *, associated_issue: int = 0, require_issue: bool = False,
                 manually_approved: Callable[[], bool] = lambda: False):
        self.owners = owners
        self.approvals: dict[str, Approval] = {}  # lower-case login -> approval
        self.assignees: set[str] = set()
        self.associated_issue = associated_issue
        self.require_issue = require_issue
        self._manually_approved = manually_approved
        self._manual: bool | None = None

    def manually_approved(self) -> bool:
        if self._manual is None:
            self._manual = bool(self._manually_approved())
        return self._manual

    # -- recording

    def _keeps_earlier(self, login: str, no_issue: bool) -> bool:
        earlier = self.approvals.get(login.lower())
        return earlier is not None and earlier.no_issue and not no_issue

    def _add(self, login: str, how: str, reference: str, no_issue: bool) -> None:
        if not self._keeps_earlier(login, no_issue):
            self.approvals[login.lower()] = Approval(login, how, reference, no_issue)

    def add_approver(self, login: str, reference: str, no_issue: bool = False) -> None:
        self._add(login, "Approved", reference, no_issue)

    def add_lgtmer(self, login: str, reference: str, no_issue: bool = False) -> None:
        self._add(login, "LGTM", reference, no_issue)

    def add_author_self_approver(self, login: str, reference: str, no_issue: bool = False) -> None:
        self._add(login, "Author self-approved", reference, no_issue)

    def remove_approver(self, login: str) -> None:
        self.approvals.pop(login.lower(), None)

    def add_assignees(self, *logins: str) -> None:
        self.assignees.update(login.lower() for login in logins)

    # -- reading

    def current_approvers(self) -> set[str]:
        return set(self.approvals)

    def _current_cased(self) -> set[str]:
        return {a.login for a in self.approvals.values()}

    def unapproved_files(self) -> set[str]:
        units = self.owners.owners_set()
        approved_by = {login.lower() for login in self._current_cased()}
        unapproved = set()
        for name in self.owners.filenames:
            unit = self.owners.unit(name)
            if unit in units and not (self.owners.repo.approvers_for(name) & approved_by):
                unapproved.add(unit)
        return unapproved

    def files_approvers(self) -> dict[str, set[str]]:
        """unit -> the PR's approvers who can approve it (logins as they wrote them)."""
        cased = self._current_cased()
        return {unit: {login for login in cased if login.lower() in {p.lower() for p in people}}
                for unit, people in self.owners.approvers().items()}

    def no_issue_approvals(self) -> dict[str, Approval]:
        reverse = self.owners.reverse(self.owners.approvers())
        return {login: a for login, a in self.approvals.items() if a.no_issue and reverse.get(login)}

    def are_files_approved(self) -> bool:
        return bool(self.owners.filenames) and not self.unapproved_files()

    def requirements_met(self) -> bool:
        return self.are_files_approved() and (not self.require_issue or self.associated_issue != 0
                                              or bool(self.no_issue_approvals()))

    def is_approved(self) -> bool:
        return self.requirements_met() or self.manually_approved()

    def list_approvals(self) -> list[Approval]:
        return [self.approvals[login] for login in sorted(self.approvals)]

    def list_no_issue_approvals(self) -> list[Approval]:
        approvals = self.no_issue_approvals()
        return [approvals[login] for login in sorted(approvals)]

    def ccs(self) -> list[str]:
        """Whom to suggest (GetCCs): leaf approvers covering what the approvers and assignees do not,
        plus the assignees still useful given those."""
        shuffled = self.owners.shuffled_approvers()
        current = self.current_approvers()
        suggested = self.owners.keep_covering(self.owners.reverse(self.owners.leaf_approvers()),
                                              current | self.assignees, shuffled)
        approvers_and_suggested = current | suggested
        everyone = approvers_and_suggested | self.assignees
        keep_assignees = self.owners.keep_covering(self.owners.reverse(self.owners.approvers()),
                                                   approvers_and_suggested, sorted(everyone))
        return sorted(suggested | keep_assignees)

    def assigned_ccs(self, ccs: list[str]) -> list[str]:
        return sorted(set(ccs) & self.assignees)

    def suggested_ccs(self, ccs: list[str]) -> list[str]:
        return sorted(set(ccs) - self.assignees)


# -- the notification comment ---------------------------------------------------------------------------

def _people_links(logins: list[str]) -> str:
    return ", ".join(f"[{login}](https://github.com/{login})" for login in logins)


def _file_line(approvals: Approvals, unit: str, approved: bool, base: str, branch: str,
               approvers: set[str]) -> str:
    owners_name = approvals.owners.repo.settings.owners_filename
    path = f"{unit}/{owners_name}" if unit else owners_name
    if unit.endswith(".md"):
        path = unit
    link = f"{base}/blob/{branch}/{path}"
    names = ",".join(sorted(approvers))
    if approved:
        return f"- ~~[{path}]({link})~~ [{names}]\n"
    if approvers:
        return f"- **[{path}]({link})** [{names}]\n  > Need more approvers for rest parts.\n"
    return f"- **[{path}]({link})**\n"


def notification(approvals: Approvals, *, org: str, repo: str, branch: str, link_url: str = DEFAULT_LINK_URL,
                 command_help_link: str = DEFAULT_COMMAND_HELP_LINK,
                 pr_process_link: str = DEFAULT_PR_PROCESS_LINK) -> str:
    """The approve plugin's notification, character for character as Prow renders it."""
    ap = approvals
    base = f"{link_url.rstrip('/')}/{org}/{repo}"
    files_approved = ap.are_files_approved()
    out = []
    if not ap.requirements_met() and ap.manually_approved():
        out.append("\nApproval requirements bypassed by manually added approval.\n\n")
    out.append("This pull-request has been approved by:"
               + "".join((", " if i else " ") + str(a) for i, a in enumerate(ap.list_approvals())))
    if not files_approved and not ap.manually_approved():
        ccs = ap.ccs()
        suggested, assigned = ap.suggested_ccs(ccs), ap.assigned_ccs(ccs)
        lead = "**Once this PR has been reviewed and has the lgtm label**, please "
        tail = f" For more information see [the Code Review Process]({pr_process_link})."
        out.append("\n")
        if suggested and assigned:
            out.append(f"{lead}ask for approval from {_people_links(assigned)} and additionally assign "
                       f"{_people_links(suggested)} for approval.{tail}")
        elif suggested:
            out.append(f"{lead}assign {_people_links(suggested)} for approval.{tail}")
        elif assigned:
            out.append(f"{lead}ask for approval from {_people_links(assigned)}.{tail}")
    out.append("\n\n")
    if ap.require_issue:
        if ap.associated_issue:
            out.append(f"Associated issue: *#{ap.associated_issue}*\n\n")
        elif ap.no_issue_approvals():
            out.append("Associated issue requirement bypassed by:"
                       + "".join((", " if i else " ") + str(a) for i, a in enumerate(ap.list_no_issue_approvals()))
                       + "\n\n")
        elif ap.manually_approved():
            out.append("*No associated issue*. Requirement bypassed by manually added approval.\n\n")
        else:
            out.append("*No associated issue*. Update pull-request body to add a reference to an issue, "
                       "or get approval with `/approve no-issue`\n\n")
    out.append(f"The full list of commands accepted by this bot can be found [here]({command_help_link}"
               f"?repo={org}%2F{repo}).\n\n")
    if files_approved or ap.manually_approved():
        out.append(f"The pull request process is described [here]({pr_process_link})\n\n")
    is_open = "open" if not files_approved and not ap.manually_approved() else ""
    out.append(f"<details {is_open}>\nNeeds approval from an approver in each of these files:\n\n")
    unapproved = ap.unapproved_files()
    files_approvers = ap.files_approvers()
    for unit in sorted(ap.owners.owners_set()):
        out.append(_file_line(ap, unit, unit not in unapproved, base, branch, files_approvers.get(unit, set())))
    out.append("\nApprovers can indicate their approval by writing `/approve` in a comment\n"
               "Approvers can cancel approval by writing `/approve cancel` in a comment\n</details>")
    message = "".join(out)
    message += "\n<!-- META=" + json.dumps({"approvers": ap.ccs()}, separators=(",", ":")) + " -->"
    title = "This PR is **" + ("" if ap.is_approved() else "NOT ") + "APPROVED**"
    return f"[{NOTIFICATION_NAME.upper()}] {title}\n\n{message.strip()}"
