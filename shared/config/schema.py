"""Prow's unknown-field check: every key in config.yaml, a job file or plugins.yaml must be a field
Prow knows, or checkconfig warns.

Prow decodes its YAML strictly (sigs.k8s.io/yaml with DisallowUnknownFields, i.e. Go's
encoding/json): a key is known when it names a json field of the target struct, matched exactly
or else case-insensitively; embedded (inline) structs contribute their fields to the parent; maps
take any key; and a type that decodes itself (a custom UnmarshalJSON that decodes leniently, or a
json.RawMessage) is not checked inside. This module mirrors that with a schema held as data:

- Prow's own types, below, written from the json tags of the Go structs in kubernetes-sigs/prow
  (pkg/config/{config,jobs,tide,branch_protection,gangway,scheduler}.go,
  pkg/apis/prowjobs/v1/types.go, pkg/plugins/config.go), cross-checked against Prow's generated
  prow-config-documented.yaml and plugin-config-documented.yaml.
- The Kubernetes types a job embeds (PodSpec and what presets and decoration use), in
  k8s_fields.json, generated from the Kubernetes OpenAPI definitions by scripts/gen_k8s_fields.py.

A field reference is written like a Go type: "" for a value that is not walked (scalars, free-form
maps such as labels, and everything Prow exempts), "T" for a struct, "[]T" a list of T, "{}T" a
map from any key to T. The key "..." lists embedded structs whose fields are inlined.

Prow stops at the first unknown field (Go's `json: unknown field "x"`, no location); we report
every one, each with its file, the line of the key and a dotted path in the style of Prow's
earlier reflective checker (`tide.queries[0].lables`, `presubmits.org/repo[2].spec...`).

checkconfig names this warning `unknown-fields` for config.yaml and plugins.yaml (on by default);
job config files are only checked under `unknown-fields-all` (opt-in, a superset that also covers
config.yaml). Diagnostics carry that name in `kind`.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Literal

from .errors import Diagnostic

UNKNOWN_FIELDS = "unknown-fields"
UNKNOWN_FIELDS_ALL = "unknown-fields-all"

DocumentKind = Literal["prow_config", "job_config", "plugin_config"]

# --- Prow's types (json names of the Go struct fields) ------------------------------------------

_PROW_TYPES: dict[str, dict[str, Any]] = {
    # pkg/config: Config is JobConfig and ProwConfig embedded.
    "Config": {"...": ["JobConfig", "ProwConfig"]},
    "JobConfig": {
        "presets": "[]Preset", "presubmits": "{}[]Presubmit", "postsubmits": "{}[]Postsubmit",
        "periodics": "[]Periodic", "decorate_all_jobs": "",
        # A json.RawMessage Prow keeps for other tools: never checked.
        "prow_ignored": "",
    },
    "ProwConfig": {
        "config_version_sha": "", "tide": "Tide", "plank": "Plank", "sinker": "Sinker",
        "deck": "Deck", "branch-protection": "BranchProtection", "gerrit": "Gerrit",
        "github_reporter": "GitHubReporter", "horologium": "Horologium",
        "slack_reporter_configs": "{}SlackReporter", "in_repo_config": "InRepoConfig",
        "gangway": "Gangway", "moonraker": "Moonraker", "scheduler": "Scheduler",
        "jenkins_operators": "[]JenkinsOperator", "prowjob_namespace": "", "pod_namespace": "",
        "log_level": "", "push_gateway": "PushGateway", "owners_dir_denylist": "OwnersDirDenylist",
        "pubsub_subscriptions": "", "pubsub_triggers": "[]PubSubTrigger", "github": "GitHubOptions",
        "status_error_link": "", "default_job_timeout": "", "managed_webhooks": "ManagedWebhooks",
        "prowjob_default_entries": "[]ProwJobDefaultEntry", "disabled_clusters": "",
    },
    "InRepoConfig": {"enabled": "", "allowed_clusters": ""},
    "OwnersDirDenylist": {"repos": "", "default": "", "ignore_preconfigured_defaults": ""},
    "PushGateway": {"endpoint": "", "interval": "", "serve_metrics": ""},
    "Controller": {"job_url_template": "", "report_template": "", "report_templates": "",
                   "max_concurrency": "", "max_goroutines": ""},
    "Plank": {
        "...": ["Controller"],
        "pod_pending_timeout": "", "pod_running_timeout": "", "pod_unscheduled_timeout": "",
        "max_revivals": "", "default_decoration_configs": "{}DecorationConfig",
        "default_decoration_config_entries": "[]DefaultDecorationConfigEntry",
        "job_url_prefix_config": "", "jobURLPrefixDisableAppendStorageProvider": "",
        "build_cluster_status_file": "", "job_queue_capacities": "",
    },
    "ProwJobDefaultEntry": {"repo": "", "cluster": "", "config": "ProwJobDefault"},
    "DefaultDecorationConfigEntry": {"repo": "", "cluster": "", "config": "DecorationConfig"},
    "Gerrit": {"tick_interval": "", "ratelimit": "", "deck_url": "",
               "org_repos_config": "[]GerritOrgRepoConfig", "allowed_presubmit_trigger_re": ""},
    "GerritOrgRepoConfig": {"org": "", "repos": "", "opt_out_help": "", "filters": "GerritQueryFilter"},
    "GerritQueryFilter": {"branches": "", "excluded_branches": "", "opt_in_by_default": ""},
    "Horologium": {"tick_interval": ""},
    "JenkinsOperator": {"...": ["Controller"], "label_selector": ""},
    "GitHubReporter": {"job_types_to_report": "", "no_comment_repos": "", "summary_comment_repos": ""},
    "Sinker": {"resync_period": "", "max_prowjob_age": "", "max_pod_age": "",
               "terminated_pod_ttl": "", "exclude_clusters": ""},
    "Deck": {
        "spyglass": "Spyglass", "tide_update_period": "", "hidden_repos": "",
        "external_agent_logs": "[]ExternalAgentLog", "branding": "Branding", "google_analytics": "",
        "rerun_auth_configs": "{}RerunAuthConfig",
        "default_rerun_auth_configs": "[]DefaultRerunAuthConfigEntry",
        "skip_storage_path_validation": "", "additional_allowed_buckets": "",
    },
    "Spyglass": {
        "lenses": "[]LensFileConfig", "viewers": "", "size_limit": "", "gcs_browser_prefix": "",
        "gcs_browser_prefixes": "", "gcs_browser_prefixes_by_bucket": "", "announcement": "",
        "testgrid_config": "", "testgrid_root": "", "hide_pr_history_link": "",
        "pr_history_link_template": "", "bucket_aliases": "",
    },
    "LensFileConfig": {"required_files": "", "optional_files": "", "lens": "LensConfig",
                       "remote_config": "LensRemoteConfig"},
    # `config` is a json.RawMessage interpreted by each lens.
    "LensConfig": {"name": "", "config": ""},
    "LensRemoteConfig": {"endpoint": "", "static_root": "", "title": "", "priority": "", "hide_title": ""},
    "ExternalAgentLog": {"agent": "", "selector": "", "url_template": ""},
    "Branding": {"logo": "", "favicon": "", "background_color": "", "header_color": ""},
    "DefaultRerunAuthConfigEntry": {"repo": "", "cluster": "", "rerun_auth_configs": "RerunAuthConfig"},
    "PubSubTrigger": {"project": "", "topics": "", "allowed_clusters": "", "max_outstanding_messages": ""},
    "GitHubOptions": {"link_url": ""},
    "ManagedWebhooks": {"respect_legacy_global_token": "", "auto_accept_invitation": "",
                        "org_repo_config": "{}ManagedWebhookInfo"},
    "ManagedWebhookInfo": {"token_created_after": ""},
    "SlackReporter": {"...": ["SlackReporterConfig"], "job_types_to_report": ""},
    "Gangway": {"allowed_api_clients": "[]AllowedApiClient"},
    "AllowedApiClient": {"gcp": "ApiClientGcp", "allowed_jobs_filters": "[]AllowedJobsFilter"},
    "ApiClientGcp": {"endpoint_api_consumer_type": "", "endpoint_api_consumer_number": ""},
    "AllowedJobsFilter": {"tenant_id": ""},
    "Moonraker": {"client_timeout": ""},
    "Scheduler": {"enabled": "", "failover": "FailoverScheduling", "external": "ExternalScheduling"},
    "FailoverScheduling": {"mappings": ""},
    "ExternalScheduling": {"url": "", "cache": "ExternalSchedulingCache"},
    "ExternalSchedulingCache": {"entry_timeout_interval": "", "cleanup_interval": ""},

    # pkg/config/tide.go
    "Tide": {
        "...": ["TideGitHubConfig"],
        "gerrit": "TideGerritConfig", "sync_period": "", "max_goroutines": "",
        "max_query_concurrency": "", "batch_size_limit": "", "prioritize_existing_batches": "",
        "github_merge_blocks_policy": "",
    },
    "TideGitHubConfig": {
        "status_update_period": "", "queries": "[]TideQuery",
        # Org/repo/branch merge methods decode themselves (a string or a nested map): unchecked.
        "merge_method": "",
        "merge_commit_template": "{}TideMergeCommitTemplate", "target_url": "", "target_urls": "",
        "pr_status_base_url": "", "pr_status_base_urls": "", "blocker_label": "",
        "squash_label": "", "rebase_label": "", "merge_label": "",
        "context_options": "TideContextPolicyOptions", "batch_size_limit": "",
        "priority": "[]TidePriority", "display_all_tide_queries_in_status": "",
    },
    "TideGerritConfig": {"queries": "[]GerritOrgRepoConfig", "ratelimit": ""},
    "TideQuery": {
        "author": "", "labels": "", "missingLabels": "", "excludedBranches": "",
        "includedBranches": "", "milestone": "", "reviewApprovedRequired": "", "orgs": "",
        "repos": "", "excludedRepos": "",
    },
    "TideContextPolicy": {
        "skip-unknown-contexts": "", "required-contexts": "", "required-if-present-contexts": "",
        "optional-contexts": "", "optional-regex-contexts": "", "from-branch-protection": "",
        "overwrite-pending-contexts": "",
    },
    "TideContextPolicyOptions": {"...": ["TideContextPolicy"], "orgs": "{}TideOrgContextPolicy"},
    "TideOrgContextPolicy": {"...": ["TideContextPolicy"], "repos": "{}TideRepoContextPolicy"},
    "TideRepoContextPolicy": {"...": ["TideContextPolicy"], "branches": "{}TideContextPolicy"},
    "TideMergeCommitTemplate": {"title": "", "body": ""},
    "TidePriority": {"labels": ""},

    # pkg/config/branch_protection.go
    "Policy": {
        "unmanaged": "", "protect": "", "required_status_checks": "ContextPolicy",
        "enforce_admins": "", "restrictions": "Restrictions", "require_manually_triggered_jobs": "",
        "required_pull_request_reviews": "ReviewPolicy", "required_linear_history": "",
        "allow_force_pushes": "", "allow_deletions": "", "require_signed_commits": "",
        "exclude": "", "include": "",
    },
    "BranchProtection": {
        "...": ["Policy"],
        "protect-tested-repos": "", "orgs": "{}Org", "allow_disabled_policies": "",
        "allow_disabled_job_policies": "", "protect_repos_with_optional_jobs": "",
    },
    "Org": {"...": ["Policy"], "repos": "{}Repo"},
    "Repo": {"...": ["Policy"], "branches": "{}Branch"},
    "Branch": {"...": ["Policy"]},
    "ContextPolicy": {"contexts": "", "strict": ""},
    "ReviewPolicy": {
        "dismissal_restrictions": "DismissalRestrictions", "dismiss_stale_reviews": "",
        "require_code_owner_reviews": "", "required_approving_review_count": "",
        "bypass_pull_request_allowances": "BypassRestrictions",
    },
    "DismissalRestrictions": {"users": "", "teams": ""},
    "BypassRestrictions": {"users": "", "teams": ""},
    "Restrictions": {"apps": "", "users": "", "teams": ""},

    # pkg/config/jobs.go
    "Preset": {"labels": "", "env": "[]core.v1.EnvVar", "volumes": "[]core.v1.Volume",
               "volumeMounts": "[]core.v1.VolumeMount", "tolerations": "[]core.v1.Toleration"},
    "JobBase": {
        "...": ["UtilityConfig"],
        "name": "", "labels": "", "max_concurrency": "", "agent": "", "cluster": "", "namespace": "",
        "error_on_eviction": "", "spec": "core.v1.PodSpec",
        # Tekton PipelineRunSpecs are not walked (not part of this schema).
        "pipeline_run_spec": "", "tekton_pipeline_run_spec": "",
        "annotations": "", "reporter_config": "ReporterConfig", "rerun_auth_config": "RerunAuthConfig",
        "hidden": "", "prowjob_defaults": "ProwJobDefault", "job_queue_name": "",
    },
    "UtilityConfig": {"decorate": "", "path_alias": "", "clone_uri": "", "skip_submodules": "",
                      "clone_depth": "", "skip_fetch_head": "", "extra_refs": "[]Refs",
                      "decoration_config": "DecorationConfig"},
    "Brancher": {"skip_branches": "", "branches": ""},
    "RegexpChangeMatcher": {"run_if_changed": "", "skip_if_only_changed": ""},
    "Reporter": {"context": "", "skip_report": ""},
    "Presubmit": {
        "...": ["JobBase", "Brancher", "RegexpChangeMatcher", "Reporter"],
        "always_run": "", "optional": "", "trigger": "", "rerun_command": "",
        "run_before_merge": "", "jenkins_spec": "JenkinsSpec",
    },
    "Postsubmit": {"...": ["JobBase", "RegexpChangeMatcher", "Brancher", "Reporter"],
                   "always_run": "", "jenkins_spec": "JenkinsSpec"},
    "Periodic": {"...": ["JobBase"], "interval": "", "minimum_interval": "", "cron": "", "tags": "",
                 "retry": "Retry"},
    "Retry": {"run_all": "", "attempts": "", "interval": ""},
    "JenkinsSpec": {"github_branch_source_job": ""},

    # pkg/apis/prowjobs/v1/types.go
    "RerunAuthConfig": {"allow_anyone": "", "github_team_ids": "", "github_team_slugs": "[]GitHubTeamSlug",
                        "github_users": "", "github_orgs": ""},
    "GitHubTeamSlug": {"slug": "", "org": ""},
    "ReporterConfig": {"slack": "SlackReporterConfig", "dingtalk": "DingTalkReporterConfig"},
    "SlackReporterConfig": {"host": "", "channel": "", "job_states_to_report": "",
                            "report_template": "", "report": ""},
    "DingTalkReporterConfig": {"token": "", "job_states_to_report": "", "report_template": "", "report": ""},
    "ProwJobDefault": {"resultstore_config": "ResultStoreConfig", "tenant_id": ""},
    "ResultStoreConfig": {"project_id": ""},
    "DecorationConfig": {
        "timeout": "", "grace_period": "", "utility_images": "UtilityImages", "resources": "Resources",
        "gcs_configuration": "GCSConfiguration", "gcs_credentials_secret": "",
        "s3_credentials_secret": "", "default_service_account_name": "", "ssh_key_secrets": "",
        "ssh_host_fingerprints": "", "blobless_fetch": "", "skip_cloning": "", "cookiefile_secret": "",
        "sparse_checkout_files": "",  # newer than the Prow source read; spec 2.5
        "oauth_token_secret": "OauthTokenSecret", "github_api_endpoints": "", "github_app_id": "",
        "github_app_private_key_secret": "GitHubAppPrivateKeySecret", "censor_secrets": "",
        "censoring_options": "CensoringOptions", "upload_ignores_interrupts": "",
        "set_limit_equals_memory_request": "", "default_memory_request": "",
        "scheduling_options": "SchedulingOptions", "pod_pending_timeout": "",
        "pod_running_timeout": "", "pod_unscheduled_timeout": "", "run_as_user": "",
        "run_as_group": "", "fs_group": "",
    },
    "CensoringOptions": {"censoring_concurrency": "", "censoring_buffer_size": "",
                         "include_directories": "", "exclude_directories": ""},
    "SchedulingOptions": {"affinity": "core.v1.Affinity", "tolerations": "[]core.v1.Toleration"},
    "Resources": {"clonerefs": "core.v1.ResourceRequirements", "initupload": "core.v1.ResourceRequirements",
                  "place_entrypoint": "core.v1.ResourceRequirements", "sidecar": "core.v1.ResourceRequirements"},
    "OauthTokenSecret": {"name": "", "key": ""},
    "GitHubAppPrivateKeySecret": {"name": "", "key": ""},
    "UtilityImages": {"clonerefs": "", "initupload": "", "entrypoint": "", "sidecar": ""},
    "GCSConfiguration": {"bucket": "", "path_prefix": "", "path_strategy": "", "default_org": "",
                         "default_repo": "", "mediaTypes": "", "job_url_prefix": "",
                         "local_output_dir": "", "compress_file_types": ""},
    "Refs": {"org": "", "repo": "", "repo_link": "", "base_ref": "", "base_sha": "", "base_link": "",
             "pulls": "[]Pull", "path_alias": "", "workdir": "", "clone_uri": "", "skip_submodules": "",
             "clone_depth": "", "skip_fetch_head": "", "blobless_fetch": "",
             # Newer than the Prow source read; documented in spec/prow-jobs-tide-artifacts.md 1.3
             # and used by the kubernetes corpus, which passes checkconfig --warnings=unknown-fields-all.
             "auxiliary": "", "sparse_checkout_files": ""},
    "Pull": {"number": "", "author": "", "sha": "", "title": "", "ref": "", "head_ref": "", "link": "",
             "commit_link": "", "author_link": ""},

    # pkg/plugins/config.go
    "PluginConfiguration": {
        # `plugins` and `config_updater` decode themselves leniently in Prow: unchecked inside.
        "plugins": "", "config_updater": "",
        "external_plugins": "{}[]ExternalPlugin", "owners": "Owners", "approve": "[]Approve",
        "blockades": "[]Blockade", "blunderbuss": "Blunderbuss", "bugzilla": "Bugzilla",
        "branch_cleaner": "BranchCleaner", "cat": "Cat", "cherry_pick_approved": "[]CherryPickApproved",
        "cherry_pick_unapproved": "CherryPickUnapproved", "dco": "{}Dco", "golint": "Golint",
        "goose": "Goose", "heart": "Heart", "label": "Label", "lgtm": "[]Lgtm", "jira": "Jira",
        "milestone_applier": "", "repo_milestone": "{}Milestone", "project_config": "ProjectConfig",
        "project_manager": "ProjectManager", "require_matching_label": "[]RequireMatchingLabel",
        "retitle": "Retitle", "slack": "Slack", "sigmention": "SigMention", "size": "Size",
        "triggers": "[]Trigger", "welcome": "[]Welcome", "override": "Override", "help": "Help",
    },
    "ExternalPlugin": {"name": "", "endpoint": "", "events": ""},
    "Owners": {"mdyamlrepos": "", "skip_collaborators": "", "labels_denylist": "",
               "filenames": "{}OwnersFilenames"},
    "OwnersFilenames": {"owners": "", "owners_aliases": ""},
    "Approve": {"repos": "", "issue_required": "", "require_self_approval": "", "lgtm_acts_as_approve": "",
                "ignore_review_state": "", "commandHelpLink": "", "pr_process_link": ""},
    "Blockade": {"repos": "", "branchregexp": "", "blockregexps": "", "exceptionregexps": "",
                 "explanation": ""},
    "Blunderbuss": {"request_count": "", "max_request_count": "", "exclude_approvers": "",
                    "use_status_availability": "", "ignore_drafts": "", "ignore_authors": "",
                    "wait_for_status": "ContextMatch"},
    "ContextMatch": {"context": "", "description": "", "state": ""},
    "Bugzilla": {"default": "{}BugzillaBranchOptions", "orgs": "{}BugzillaOrgOptions"},
    "BugzillaOrgOptions": {"default": "{}BugzillaBranchOptions", "repos": "{}BugzillaRepoOptions"},
    "BugzillaRepoOptions": {"branches": "{}BugzillaBranchOptions"},
    "BugzillaBranchOptions": {
        "exclude_defaults": "", "enable_backporting": "", "validate_by_default": "", "is_open": "",
        "target_release": "", "statuses": "", "valid_states": "[]BugzillaBugState",
        "dependent_bug_statuses": "", "dependent_bug_states": "[]BugzillaBugState",
        "dependent_bug_target_releases": "", "dependent_bug_target_release": "",
        "status_after_validation": "", "state_after_validation": "BugzillaBugState",
        "add_external_link": "", "status_after_merge": "", "state_after_merge": "BugzillaBugState",
        "state_after_close": "BugzillaBugState", "allowed_groups": "",
    },
    "BugzillaBugState": {"status": "", "resolution": ""},
    "BranchCleaner": {"preserved_branches": ""},
    "Cat": {"key_path": ""},
    "Goose": {"key_path": ""},
    "CherryPickApproved": {"org": "", "repo": "", "branchregexp": "", "approvers": "",
                           "allow_missing_approved_label": "", "allow_missing_lgtm_label": ""},
    "CherryPickUnapproved": {"branchregexp": "", "comment": ""},
    "Dco": {"skip_dco_check_for_members": "", "trusted_apps": "", "trusted_org": "",
            "skip_dco_check_for_collaborators": "", "contributing_repo": "", "contributing_branch": "",
            "contributing_path": ""},
    "Golint": {"minimum_confidence": ""},
    "Heart": {"adorees": "", "commentregexp": ""},
    "Label": {"additional_labels": "", "restricted_labels": "{}[]RestrictedLabel"},
    "RestrictedLabel": {"label": "", "allowed_teams": "", "allowed_users": "", "assign_on": "[]AssignOnLabel"},
    "AssignOnLabel": {"label": ""},
    "Lgtm": {"repos": "", "review_acts_as_lgtm": "", "store_tree_hash": "", "trusted_team_for_sticky_lgtm": ""},
    "Jira": {"disabled_jira_projects": ""},
    "Milestone": {"maintainers_id": "", "maintainers_team": "", "maintainers_friendly_name": ""},
    "ProjectConfig": {"project_org_configs": "{}ProjectOrgConfig"},
    "ProjectOrgConfig": {"org_maintainers_team_id": "", "org_default_column_map": "",
                         "project_repo_configs": "{}ProjectRepoConfig"},
    "ProjectRepoConfig": {"repo_maintainers_team_id": "", "repo_default_column_map": ""},
    "ProjectManager": {"orgsRepos": "{}ManagedOrgRepo"},
    "ManagedOrgRepo": {"projects": "{}ManagedProject"},
    "ManagedProject": {"columns": "[]ManagedColumn"},
    "ManagedColumn": {"id": "", "name": "", "state": "", "labels": "", "org": ""},
    "RequireMatchingLabel": {"org": "", "repo": "", "branch": "", "prs": "", "issues": "", "regexp": "",
                             "missing_label": "", "missing_comment": "", "grace_period": ""},
    "Retitle": {"allow_closed_issues": ""},
    "Slack": {"mentionchannels": "", "mergewarnings": "[]MergeWarning"},
    "MergeWarning": {"repos": "", "channels": "", "exempt_users": "", "exempt_branches": ""},
    "SigMention": {"regexp": ""},
    "Size": {"s": "", "m": "", "l": "", "xl": "", "xxl": ""},
    "Trigger": {"repos": "", "trusted_apps": "", "trusted_org": "", "join_org_url": "",
                "only_org_members": "", "ignore_ok_to_test": "", "trigger_github_workflows": "",
                # Newer than the Prow source read; spec/prow-hook-and-plugins.md 3.1.
                "org_invite": "TriggerOrgInvite"},
    "TriggerOrgInvite": {"prominent": "TriggerOrgInviteProminent"},
    "TriggerOrgInviteProminent": {"disabled": "", "merged_pr_threshold": "", "message": ""},
    "Welcome": {"repos": "", "message_template": "", "always_post": ""},
    "Override": {"allow_top_level_owners": "", "allowed_github_teams": ""},
    "Help": {"help_guidelines_url": "", "help_guidelines_summary": ""},
}

_ROOTS: dict[str, tuple[str, str]] = {
    "prow_config": ("Config", UNKNOWN_FIELDS),
    "job_config": ("JobConfig", UNKNOWN_FIELDS_ALL),
    "plugin_config": ("PluginConfiguration", UNKNOWN_FIELDS),
}

_K8S_FIELDS = Path(__file__).with_name("k8s_fields.json")


# --- compiled form -------------------------------------------------------------------------------

class _Struct:
    """A struct's known fields: name -> reference (None: not walked; _Struct; or a container)."""

    __slots__ = ("name", "fields", "folded")

    def __init__(self, name: str):
        self.name = name
        self.fields: dict[str, Any] = {}
        self.folded: dict[str, str] = {}


class _List:
    __slots__ = ("item",)

    def __init__(self, item: Any):
        self.item = item


class _Map:
    __slots__ = ("item",)

    def __init__(self, item: Any):
        self.item = item


@functools.cache
def _structs() -> dict[str, _Struct]:
    """Compiled on first use, so importing this module stays cheap."""
    definitions: dict[str, dict[str, Any]] = dict(_PROW_TYPES)
    definitions.update(json.loads(_K8S_FIELDS.read_text())["types"])
    structs = {name: _Struct(name) for name in definitions}

    def reference(text: str) -> Any:
        if not text:
            return None
        if text.startswith("[]"):
            return _List(reference(text[2:]))
        if text.startswith("{}"):
            return _Map(reference(text[2:]))
        return structs[text]

    def flatten(name: str) -> dict[str, str]:
        own = definitions[name]
        fields: dict[str, str] = {}
        for embedded in own.get("...", ()):
            fields.update(flatten(embedded))
        fields.update((key, value) for key, value in own.items() if key != "...")
        return fields

    for name, struct in structs.items():
        struct.fields = {key: reference(value) for key, value in flatten(name).items()}
        struct.folded = {key.casefold(): key for key in struct.fields}
    return structs


# --- the walk -------------------------------------------------------------------------------------

def unknown_fields(value: Any, kind: DocumentKind) -> list[Diagnostic]:
    """Warnings for every key Prow's strict decoding would reject, in document order.

    `value` is a document from yamlnodes.load_yaml (YMap/YList carry file and lines); `kind`
    picks the root type: "prow_config" (config.yaml: ProwConfig plus inline JobConfig),
    "job_config" (a job file) or "plugin_config" (plugins.yaml).
    """
    root, warning = _ROOTS[kind]
    found: list[tuple[dict, Any, _Struct, list]] = []
    _walk(value, _structs()[root], [], found)
    return [_diagnostic(mapping, key, struct, path, warning) for mapping, key, struct, path in found]


def _walk(value: Any, ref: Any, path: list, found: list) -> None:
    # Values of the wrong shape (a list where a struct belongs, ...) are type errors, which
    # the loader reports; they are not unknown fields.
    if type(ref) is _Struct:
        if not isinstance(value, dict):
            return
        fields = ref.fields
        for key, child in value.items():
            name = key if type(key) is str else _go_key(key)
            if name in fields:
                field = fields[name]
            else:
                # encoding/json falls back to a case-insensitive match.
                folded = ref.folded.get(name.casefold())
                if folded is None:
                    found.append((value, key, ref, path + [name]))
                    continue
                field = fields[folded]
            if field is not None and child is not None:
                path.append(name)
                _walk(child, field, path, found)
                path.pop()
    elif type(ref) is _List:
        if not isinstance(value, list):
            return
        item = ref.item
        for index, child in enumerate(value):
            if child is not None:
                path.append(index)
                _walk(child, item, path, found)
                path.pop()
    elif type(ref) is _Map:
        if not isinstance(value, dict):
            return
        item = ref.item
        for key, child in value.items():
            if child is not None:
                path.append(key if type(key) is str else _go_key(key))
                _walk(child, item, path, found)
                path.pop()


def _go_key(key: Any) -> str:
    """The string a non-string YAML key becomes once sigs.k8s.io/yaml converts it to JSON."""
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _dotted(path: list) -> str:
    """Prow's path style: tide.queries[0].lables, presubmits.org/repo[2].spec."""
    text = "".join(f"[{part}]" if type(part) is int else f".{part}" for part in path)
    return text[1:] if text.startswith(".") else text


def _diagnostic(mapping: dict, key: Any, struct: _Struct, path: list, warning: str) -> Diagnostic:
    import difflib  # only needed when something is wrong

    message = f"unknown field: {_dotted(path)}"
    if type(key) is str:
        close = difflib.get_close_matches(key, list(struct.fields), n=1, cutoff=0.75)
        if close:
            message += f' (did you mean "{close[0]}"?)'
    line_of = getattr(mapping, "line_of", None)
    return Diagnostic(getattr(mapping, "file", ""), line_of(key) if line_of else None, message,
                      "warning", warning)
