"""Label names Prow's plugins use (`pkg/labels/labels.go`), spelled exactly as Prow spells them."""

APPROVED = "approved"
LGTM = "lgtm"
HOLD = "do-not-merge/hold"
WORK_IN_PROGRESS = "do-not-merge/work-in-progress"
INVALID_OWNERS = "do-not-merge/invalid-owners-file"
NEEDS_OK_TO_TEST = "needs-ok-to-test"
OK_TO_TEST = "ok-to-test"
NEEDS_REBASE = "needs-rebase"
LIFECYCLE_ACTIVE = "lifecycle/active"
LIFECYCLE_FROZEN = "lifecycle/frozen"
LIFECYCLE_STALE = "lifecycle/stale"
LIFECYCLE_ROTTEN = "lifecycle/rotten"
HELP = "help wanted"
GOOD_FIRST_ISSUE = "good first issue"
TRIAGE_ACCEPTED = "triage/accepted"
CHERRY_PICK_APPROVED = "cherry-pick-approved"
CHERRY_PICK_UNAPPROVED = "do-not-merge/cherry-pick-not-approved"
BLOCKED_PATHS = "do-not-merge/blocked-paths"
MERGE_COMMITS = "do-not-merge/contains-merge-commits"
SHRUG = "¯\\_(ツ)_/¯"


def has_label(issue_labels, name: str) -> bool:
    """Prow's github.HasLabel over labels as the GitHub API returns them (dicts): case-insensitive."""
    wanted = name.lower()
    return any((label.get("name") or "").lower() == wanted for label in issue_labels)
