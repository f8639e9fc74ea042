"""OWNERS and OWNERS_ALIASES decoded as Prow's repoowners decodes them."""
import pytest

from shared.owners import OwnersParseError, OwnersSettings, RepoOwners, expand_aliases, parse_aliases, parse_owners


def test_simple_form_normalises_logins_and_expands_aliases():
    parsed = parse_owners("approvers: [Alice, '@Bob', leads]\nreviewers: [carol]\nlabels: [area/x]\n"
                          "emeritus_approvers: [old]\noptions: {no_parent_owners: true}\n",
                          {"leads": frozenset({"dave", "erin"})})
    [entry] = parsed.entries
    assert entry.pattern is None
    assert entry.approvers == {"alice", "bob", "dave", "erin"}
    assert entry.reviewers == {"carol"} and entry.labels == {"area/x"}
    assert parsed.options.no_parent_owners and not parsed.full_form


def test_keys_match_case_insensitively_and_scalars_become_names():
    [entry] = parse_owners("Approvers: [123, true]\n").entries
    assert entry.approvers == {"123", "true"}


def test_full_form_filters_are_re2_searched_and_bad_patterns_skipped():
    parsed = parse_owners('filters:\n  ".*": {approvers: [a]}\n  "\\\\.go$": {reviewers: [b]}\n'
                          '  "(?<=x)y": {approvers: [c]}\n')
    assert parsed.full_form and parsed.bad_filters == ("(?<=x)y",)
    everything, go = parsed.entries
    assert everything.pattern is None and everything.approvers == {"a"}
    assert go.applies_to("pkg/main.go") and not go.applies_to("main.go.txt")


def test_a_list_of_the_wrong_shape_falls_back_to_the_full_form():
    """`approvers: alice` fails the simple form; the full form ignores the key: only options remain."""
    parsed = parse_owners("approvers: alice\noptions:\n  no_parent_owners: true\n")
    assert parsed.entries == () and parsed.options.no_parent_owners


@pytest.mark.parametrize("text", ["- a\n- b\n", "options: yes-please\n", "approvers: [a\n",
                                  "options: {no_parent_owners: 'true'}\n"])
def test_undecodable_files(text):
    with pytest.raises(OwnersParseError):
        parse_owners(text)


def test_aliases_forms():
    assert parse_aliases("aliases:\n  Team: ['@X', y]\n  flow: {a, b}\n  empty:\n") == {
        "team": {"x", "y"}, "flow": {"a", "b"}, "empty": frozenset()}
    with pytest.raises(OwnersParseError, match="must contain a list of members"):
        parse_aliases("aliases:\n  team: alice\n")
    with pytest.raises(OwnersParseError, match="alias group member"):
        parse_aliases("aliases:\n  team: [1]\n")
    assert expand_aliases({"team", "z"}, {"team": frozenset({"x"})}) == {"x", "z"}


def test_lookups_layers_no_parent_owners_and_units():
    owners = RepoOwners.from_files({
        "OWNERS": "approvers: [root]\nreviewers: [rr]\n",
        "a/OWNERS": "approvers: [alice]\n",
        "a/b/OWNERS": "reviewers: [bob]\n",
        "a/b/c/OWNERS": "options: {no_parent_owners: true}\napprovers: [carol]\n",
        "d/OWNERS": 'filters:\n  "\\\\.go$": {approvers: [gopher]}\n',
        "e/OWNERS": "labels: [area/e]\nrequired_reviewers: [rita]\n",
    })
    assert owners.approver_layers("a/b/x.go") == [{"alice"}, {"root"}]
    assert owners.approvers_for("a/b/x.go") == {"alice", "root"}
    assert owners.leaf_approvers("a/b/x.go") == {"alice"}
    assert owners.find_approver_owners_for_file("a/b/x.go") == "a"
    assert owners.find_reviewers_owners_for_file("a/b/x.go") == "a/b"
    assert owners.approvers_for("a/b/c/deep/x") == {"carol"}
    # no_parent_owners stops the walk only once that role has someone: c/ has no reviewers
    assert owners.reviewers_for("a/b/c/x") == {"bob", "rr"}
    assert owners.find_approver_owners_for_file("d/x.go") == "d"
    assert owners.find_approver_owners_for_file("d/x.md") == ""
    assert owners.approvers_for("d/x.md") == {"root"}
    assert owners.find_approver_owners_for_file("README.md") == ""  # the root is never a unit
    assert owners.labels_for("e/f/g") == {"area/e"} and owners.required_reviewers("e/x") == {"rita"}
    assert owners.top_level_approvers() == {"root"}
    assert owners.owners_path("a/b") == "a/b/OWNERS" and owners.owners_path("") == "OWNERS"


def test_collaborator_filter_can_move_the_unit_up():
    files = {"OWNERS": "approvers: [root]\n", "a/OWNERS": "approvers: [outsider]\nreviewers: [outsider, bob]\n"}
    unfiltered = RepoOwners.from_files(files)
    filtered = RepoOwners.from_files(files, collaborators=["Root", "bob"])
    assert unfiltered.find_approver_owners_for_file("a/x") == "a"
    assert filtered.find_approver_owners_for_file("a/x") == ""
    assert filtered.approvers_for("a/x") == {"root"} and filtered.reviewers_for("a/x") == {"bob"}


def test_denylisted_directories_and_their_subtrees_are_skipped():
    owners = RepoOwners.from_files({"OWNERS": "approvers: [root]\n", "vendor/x/y/OWNERS": "approvers: [v]\n",
                                    "_output/OWNERS": "approvers: [o]\n", "_output/sub/OWNERS": "approvers: [o]\n",
                                    "vendor/OWNERS": "approvers: [vendor]\n"})
    assert owners.approvers_for("vendor/x/y/z.go") == {"vendor", "root"}
    assert owners.approvers_for("_output/sub/a") == {"root"}


def test_markdown_front_matter_owns_its_file_with_mdyamlrepos():
    files = {"OWNERS": "approvers: [root]\n", "docs/guide.md": "---\napprovers: [writer]\n---\n# Guide\n",
             "docs/other.md": "# no front matter\n"}
    plain = RepoOwners.from_files(files)
    assert plain.approvers_for("docs/guide.md") == {"root"}
    md = RepoOwners.from_files(files, settings=OwnersSettings(mdyaml=True))
    assert md.approvers_for("docs/guide.md") == {"writer", "root"}
    assert md.find_approver_owners_for_file("docs/guide.md") == "docs/guide.md"
    assert md.approvers_for("docs/other.md") == {"root"}


def test_other_owners_filenames_and_settings_from_plugins_yaml():
    from tests.owners.test_corpus import _plugins
    plugins = _plugins("owners:\n  skip_collaborators: [org]\n  mdyamlrepos: [org/repo]\n"
                       "  labels_denylist: [x]\n  filenames:\n    org/repo: {owners: OWNERS.yml, owners_aliases: AL}\n")
    settings = OwnersSettings.for_repo("org", "repo", plugins=plugins)
    assert (settings.owners_filename, settings.aliases_filename) == ("OWNERS.yml", "AL")
    assert settings.skip_collaborators and not settings.skip_collaborators_exact
    assert settings.mdyaml and settings.labels_denylist == ("x",)
    other = OwnersSettings.for_repo("other", "repo", plugins=plugins)
    assert (other.owners_filename, other.skip_collaborators, other.mdyaml) == ("OWNERS", False, False)
    owners = RepoOwners.from_files({"OWNERS.yml": "approvers: [t]\n", "OWNERS": "approvers: [ignored]\n",
                                    "AL": "aliases: {t: [Tom]}\n"}, settings=settings)
    assert owners.approvers_for("x.go") == {"tom"}
