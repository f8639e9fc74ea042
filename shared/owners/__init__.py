"""OWNERS and OWNERS_ALIASES (Prow's pkg/repoowners), read through the GitHub API. See `repo` for the
lookups plugins make and how files are read, `parse` for how a file is decoded.

    from shared.owners import load_repo_owners
    owners = load_repo_owners(ctx.github, org, repo, base_branch, plugins=ctx.plugin_config,
                              prow=ctx.config.prow)
    owners.approvers_for(path), owners.leaf_approvers(path), owners.approver_layers(path)
    owners.reviewers_for(path), owners.leaf_reviewers(path), owners.reviewer_layers(path)
    owners.required_reviewers(path), owners.labels_for(path), owners.top_level_approvers()
    owners.find_approver_owners_for_file(path), owners.find_reviewers_owners_for_file(path)
    owners.is_no_parent_owners(dir), owners.is_auto_approve_unowned_subfolders(dir), owners.owners_path(dir)
"""
from shared.owners.parse import (Entry, Options, OwnersFile, OwnersParseError, expand_aliases, parse_aliases,
                                 parse_md_front_matter, parse_owners)
from shared.owners.repo import (OwnersSettings, RepoOwners, TreeIndex, index_tree, load_repo_owners, parent_dir,
                                relative_path)

__all__ = ["Entry", "Options", "OwnersFile", "OwnersParseError", "OwnersSettings", "RepoOwners", "TreeIndex",
           "expand_aliases", "index_tree", "load_repo_owners", "parent_dir", "parse_aliases",
           "parse_md_front_matter", "parse_owners", "relative_path"]
