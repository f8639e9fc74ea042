"""YAML with line numbers, composed by libyaml.

`load_yaml` returns plain Python values, except that mappings are `YMap` and sequences are `YList`:
subclasses of dict and list that remember the file and line of themselves and of each key/item.
Anchors, aliases and `<<` merge keys resolve as in PyYAML's safe loader (YAML 1.1, as Go's yaml.v2
reads Prow's files: `yes`/`on` are booleans there too).
"""
from __future__ import annotations

from typing import Any

import yaml

from .errors import Diagnostic

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR_TAG = "tag:yaml.org,2002:str"


class YMap(dict):
    """A mapping that knows where it and each of its keys came from (1-based lines)."""

    __slots__ = ("file", "line", "key_lines")

    def __init__(self, file: str, line: int):
        super().__init__()
        self.file = file
        self.line = line
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class YList(list):
    """A sequence that knows where it and each item came from (1-based lines)."""

    __slots__ = ("file", "line", "item_lines")

    def __init__(self, file: str, line: int):
        super().__init__()
        self.file = file
        self.line = line
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


class YAMLLoadError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        self.diagnostic = diagnostic
        super().__init__(str(diagnostic))


def line_of(value: Any, default: int | None = None) -> int | None:
    """The line a YMap/YList starts on, or `default` for plain values."""
    return getattr(value, "line", default)


class _Builder:
    def __init__(self, file: str):
        self.file = file
        self.constructor = yaml.constructor.SafeConstructor()
        self.duplicate_keys: list[tuple[int, Any]] = []
        self._memo: dict[int, Any] = {}

    def build(self, node: yaml.Node) -> Any:
        # Aliases compose to the same node object; build each node once.
        memo = self._memo.get(id(node))
        if memo is not None:
            return memo
        if isinstance(node, yaml.MappingNode):
            explicit = sum(1 for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge")
            self.constructor.flatten_mapping(node)
            first_explicit = len(node.value) - explicit  # merged pairs come first
            explicit_keys: set = set()
            result = YMap(self.file, node.start_mark.line + 1)
            self._memo[id(node)] = result
            for index, (key_node, value_node) in enumerate(node.value):
                key = self.build(key_node)
                if isinstance(key, (YMap, YList)):
                    raise YAMLLoadError(Diagnostic(self.file, key_node.start_mark.line + 1,
                                                   "a mapping key must be a scalar"))
                line = key_node.start_mark.line + 1
                if index >= first_explicit:
                    if key in explicit_keys:
                        self.duplicate_keys.append((line, key))
                    explicit_keys.add(key)
                result[key] = self.build(value_node)
                result.key_lines[key] = line
            return result
        if isinstance(node, yaml.SequenceNode):
            result = YList(self.file, node.start_mark.line + 1)
            self._memo[id(node)] = result
            for item in node.value:
                result.append(self.build(item))
                result.item_lines.append(item.start_mark.line + 1)
            return result
        if node.tag == _STR_TAG:  # most scalars: skip the generic constructor
            return node.value
        return self.constructor.construct_object(node, deep=True)


def _load_error(file: str, exc: yaml.YAMLError) -> YAMLLoadError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
    return YAMLLoadError(Diagnostic(file, line, message))


def load_yaml(data: bytes | str, file: str) -> tuple[Any, list[tuple[int, Any]]]:
    """Parse one YAML document. Returns (value, duplicate_keys as (line, key)).

    An empty document gives None. Raises YAMLLoadError (with file and line) on a syntax error or
    when the stream holds more than one document.
    """
    try:
        node = yaml.compose(data, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _load_error(file, exc) from None
    if node is None:
        return None, []
    builder = _Builder(file)
    try:
        return builder.build(node), builder.duplicate_keys
    except yaml.YAMLError as exc:
        raise _load_error(file, exc) from None


def compose_yaml(data: bytes | str, file: str) -> yaml.Node | None:
    """The raw libyaml node tree, for walkers that only need structure and marks."""
    try:
        return yaml.compose(data, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise _load_error(file, exc) from None
