"""OWNERS and OWNERS_ALIASES files read as Prow's pkg/repoowners reads them (spec §5.1).

An OWNERS file has a simple form (approvers, reviewers, required_reviewers, labels and options for
everything below its directory) and a full form (`filters`: the same lists per regexp, searched
against the path relative to the file's directory). The simple form is tried first; the full form
when the simple one fails to decode or holds no list. Prow decodes with sigs.k8s.io/yaml, that is
YAML turned into JSON and decoded by Go's encoding/json: unknown keys are ignored, key names match
case-insensitively, scalars in a list of names become strings, and a value of the wrong shape fails
the whole decode. Logins are normalised (lower case, no leading `@`), and an entry naming an alias
of the root OWNERS_ALIASES is replaced by the alias's members.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

import yaml

from shared.config.regex import RE2Error, compile_re2
from shared.events import norm_login

ROLES = ("approvers", "reviewers", "required_reviewers", "labels")
OPTIONS = ("no_parent_owners", "auto_approve_unowned_subfolders")
# The front matter of a Markdown file that acts as its own OWNERS (owners.mdyamlrepos).
MD_FRONT_MATTER = re.compile(r"\A---\n(?:.|\n)*\n---")


class OwnersParseError(ValueError):
    """The file decodes as neither form of OWNERS (or, for aliases, is not a map of lists)."""


@dataclass(frozen=True)
class Options:
    no_parent_owners: bool = False
    auto_approve_unowned_subfolders: bool = False


@dataclass(frozen=True)
class Entry:
    """One set of owners: for every path (`pattern` None) or for the paths `pattern` matches."""
    pattern: re.Pattern | None
    approvers: frozenset[str] = frozenset()
    reviewers: frozenset[str] = frozenset()
    required_reviewers: frozenset[str] = frozenset()
    labels: frozenset[str] = frozenset()

    def applies_to(self, relative_path: str) -> bool:
        return self.pattern is None or self.pattern.search(relative_path) is not None

    def role(self, role: str) -> frozenset[str]:
        return getattr(self, role)


@dataclass(frozen=True)
class OwnersFile:
    """A decoded OWNERS file. `bad_filters` are patterns Go's regexp rejects (Prow skips them)."""
    entries: tuple[Entry, ...] = ()
    options: Options = Options()
    full_form: bool = False
    bad_filters: tuple[str, ...] = ()

    def all_labels(self) -> set[str]:
        return {label for entry in self.entries for label in entry.labels}

    def has_approvers(self) -> bool:
        return any(entry.approvers for entry in self.entries)


Aliases = Mapping[str, frozenset[str]]


# -- decoding as Go's encoding/json does, on YAML -------------------------------------------------------

def _load_yaml(content: bytes | str) -> Any:
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise OwnersParseError(f"error converting YAML to JSON: {_go_yaml_message(exc)}") from exc


def _go_yaml_message(exc: yaml.YAMLError) -> str:
    """The shape of go-yaml's messages (`yaml: line 3: could not find expected ':'`), which name the
    line that verify-owners points its review comment at."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"yaml: line {mark.line + 1}: {problem}"
    return "yaml: " + " ".join(str(exc).split())


def _field(doc: Mapping, name: str) -> Any:
    """encoding/json's key matching: the exact name, else a case-insensitive match."""
    if name in doc:
        return doc[name]
    for key, value in doc.items():
        if isinstance(key, str) and key.lower() == name:
            return value
    return None


def _names(value: Any, what: str) -> list[str]:
    """A list of names (sigs.k8s.io/yaml turns YAML scalars into strings for a []string field)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise OwnersParseError(f"json: cannot unmarshal {_json_kind(value)} into Go struct field {what} "
                               "of type []string")
    out = []
    for item in value:
        if isinstance(item, bool):
            out.append("true" if item else "false")
        elif isinstance(item, (str, int, float)):
            out.append(str(item))
        elif item is not None:
            raise OwnersParseError(f"json: cannot unmarshal {_json_kind(item)} into Go struct field {what} "
                                   "of type string")
    return out


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _options(value: Any) -> Options:
    if value is None:
        return Options()
    if not isinstance(value, Mapping):
        raise OwnersParseError(f"json: cannot unmarshal {_json_kind(value)} into Go struct field options "
                               "of type repoowners.dirOptions")
    flags = {}
    for name in OPTIONS:
        flag = _field(value, name)
        if flag is not None and not isinstance(flag, bool):
            raise OwnersParseError(f"json: cannot unmarshal {_json_kind(flag)} into Go struct field "
                                   f"dirOptions.options.{name} of type bool")
        flags[name] = bool(flag)
    return Options(**flags)


def _lists(doc: Mapping, where: str) -> dict[str, list[str]]:
    return {role: _names(_field(doc, role), f"{where}.{role}") for role in ROLES}


def _entry(pattern: re.Pattern | None, lists: Mapping[str, list[str]], aliases: Aliases | None) -> Entry:
    def people(names: list[str]) -> frozenset[str]:
        return expand_aliases({norm_login(n) for n in names}, aliases)
    return Entry(pattern, people(lists["approvers"]), people(lists["reviewers"]),
                 people(lists["required_reviewers"]), frozenset(lists["labels"]))


def parse_owners(content: bytes | str, aliases: Aliases | None = None) -> OwnersFile:
    """Decode an OWNERS file; raises OwnersParseError when neither form decodes (Prow then ignores
    the file). `aliases` expands alias names (pass the root OWNERS_ALIASES)."""
    doc = _load_yaml(content)
    if doc is None:
        doc = {}
    if not isinstance(doc, Mapping):
        raise OwnersParseError(f"json: cannot unmarshal {_json_kind(doc)} into Go value of type "
                               "repoowners.SimpleConfig")
    simple_error: OwnersParseError | None = None
    try:
        options = _options(_field(doc, "options"))
        lists = _lists(doc, "SimpleConfig")
    except OwnersParseError as exc:
        simple_error = exc
    else:
        if any(lists.values()):
            return OwnersFile((_entry(None, lists, aliases),), options)
    try:
        return _parse_full(doc, aliases)
    except OwnersParseError:
        raise simple_error if simple_error is not None else OwnersParseError("invalid OWNERS file") from None


def _parse_full(doc: Mapping, aliases: Aliases | None) -> OwnersFile:
    options = _options(_field(doc, "options"))
    filters = _field(doc, "filters")
    if filters is None:
        return OwnersFile((), options, full_form=True)
    if not isinstance(filters, Mapping):
        raise OwnersParseError(f"json: cannot unmarshal {_json_kind(filters)} into Go struct field "
                               "FullConfig.filters of type map[string]repoowners.Config")
    entries, bad = [], []
    for pattern, config in filters.items():
        pattern = str(pattern)
        if config is None:
            config = {}
        if not isinstance(config, Mapping):
            raise OwnersParseError(f"json: cannot unmarshal {_json_kind(config)} into Go struct field "
                                   "FullConfig.filters of type repoowners.Config")
        lists = _lists(config, "Config")
        compiled = None
        if pattern != ".*":
            try:
                compiled = compile_re2(pattern)
            except RE2Error:
                bad.append(pattern)
                continue
        entries.append(_entry(compiled, lists, aliases))
    return OwnersFile(tuple(entries), options, full_form=True, bad_filters=tuple(bad))


def parse_md_front_matter(content: bytes | str, aliases: Aliases | None = None) -> OwnersFile | None:
    """The OWNERS of one Markdown file from its YAML front matter (simple form only), or None."""
    text = content.decode("utf-8", errors="replace") if isinstance(content, bytes) else content
    match = MD_FRONT_MATTER.search(text)
    if not match:
        return None
    try:
        doc = next(yaml.safe_load_all(match.group(0)), None)  # the first document, as yaml.v2 reads it
        if not isinstance(doc, Mapping):
            return None
        return OwnersFile((_entry(None, _lists(doc, "SimpleConfig"), aliases),), _options(_field(doc, "options")))
    except (yaml.YAMLError, OwnersParseError):
        return None


# -- aliases ---------------------------------------------------------------------------------------------

def parse_aliases(content: bytes | str) -> dict[str, frozenset[str]]:
    """Decode OWNERS_ALIASES (`aliases: {name: [members]}`; a map of members and null are accepted).
    Raises OwnersParseError for what Prow rejects (a scalar alias, a non-string member)."""
    aliases, error = _aliases(content)
    if error is not None:
        raise error
    return aliases


def parse_aliases_lenient(content: bytes | str) -> dict[str, frozenset[str]]:
    """What Prow's loader keeps of OWNERS_ALIASES: the aliases decoded before an error."""
    return _aliases(content)[0]


def _aliases(content: bytes | str) -> tuple[dict[str, frozenset[str]], OwnersParseError | None]:
    out: dict[str, frozenset[str]] = {}
    try:
        doc = _load_yaml(content)
    except OwnersParseError as exc:
        return out, exc
    if doc is None:
        return out, None
    if not isinstance(doc, Mapping):
        return out, OwnersParseError(f"json: cannot unmarshal {_json_kind(doc)} into Go value")
    data = _field(doc, "aliases")
    if data is None:
        return out, None
    if not isinstance(data, Mapping):
        return out, OwnersParseError(f"json: cannot unmarshal {_json_kind(data)} into Go struct field .aliases "
                                     "of type map[string]interface {}")
    for alias, members in data.items():
        name = norm_login(str(alias))
        if isinstance(members, list):
            if not all(isinstance(m, str) for m in members):
                bad = next(m for m in members if not isinstance(m, str))
                return out, OwnersParseError(f"unexpected type for alias group member: {_go_type(bad)}")
            out[name] = frozenset(norm_login(m) for m in members)
        elif isinstance(members, str):
            return out, OwnersParseError(f"alias group '{alias}' must contain a list of members")
        elif isinstance(members, Mapping):
            out[name] = frozenset(norm_login(str(m)) for m in members)
        elif members is None:
            out[name] = frozenset()
        else:
            return out, OwnersParseError(f"unexpected type for alias group: {_go_type(members)}")
    return out, None


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "float64"
    if isinstance(value, Mapping):
        return "map[string]interface {}"
    if isinstance(value, list):
        return "[]interface {}"
    return type(value).__name__


def expand_aliases(logins: set[str] | frozenset[str], aliases: Aliases | None) -> frozenset[str]:
    """Prow's ExpandAliases: each login naming an alias is replaced by the alias's members (one level)."""
    if not aliases:
        return frozenset(logins)
    out: set[str] = set()
    for login in logins:
        members = aliases.get(norm_login(login))
        if members is None:
            out.add(login)
        else:
            out |= members
    return frozenset(out)
