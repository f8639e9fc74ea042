"""Go `text/template`, the subset Prow configs use for `job_url_template` and `report_templates`.

Both corpora (kubernetes, metal3) use only: text, `{{.A.B}}` field chains, `{{if P}}`, `{{else if P}}`,
`{{else}}`, `{{with P}}`, `{{end}}`, and the functions `eq`, `ne` and `index` with field, string and
integer arguments (plus `{{-`/`-}}` trimming, `and`/`or`/`not` and parenthesised calls, which cost
nothing more). No PyPI package evaluates Go templates natively (the two that exist wrap a Go
shared library through CGo), so this is a small evaluator of that subset.

    template = parse(text)          # TemplateError (with the offset) for anything outside the subset
    template.render(data)           # TemplateExecError: a nil pointer, a bad index, ...

Data is a Go-named view of a ProwJob: `go_view(job.to_dict())` maps `.Spec.Refs.Pulls` to
`spec.refs.pulls`, `.Status.BuildID` to `status.build_id`, `.Name` to `metadata.name` and so on
(Go field name → the JSON key Prow serialises it under). A field the JSON leaves out (`omitempty`)
reads as its zero value: "", 0 or nil, as the Go struct field would.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

FUNCTIONS = ("eq", "ne", "index", "and", "or", "not")


class TemplateError(ValueError):
    """The template is outside the supported subset, or malformed."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


class TemplateExecError(RuntimeError):
    pass


# -- lexing -----------------------------------------------------------------------------------

_ACTION = re.compile(r"\{\{(-\s)?(.*?)(\s-)?\}\}", re.S)
_TOKEN = re.compile(r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|`[^`]*`)|(?P<int>-?\d+)|(?P<field>(?:\.[A-Za-z_]\w*)+|\.)'
                    r'|(?P<ident>[A-Za-z_]\w*)|(?P<paren>[()]))')


def _tokens(text: str, offset: int) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise TemplateError(f"unsupported syntax {text[pos:]!r} in {{{{{text}}}}}", offset)
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


# -- the tree ---------------------------------------------------------------------------------

@dataclass
class Text:
    text: str


@dataclass
class Action:
    expr: Any


@dataclass
class Branch:
    kind: str                  # "if" | "with"
    cond: Any
    then: list = field(default_factory=list)
    otherwise: list = field(default_factory=list)


def _parse_expr(tokens: list[tuple[str, str]], offset: int) -> Any:
    """A pipeline of one command: a value, or a function applied to arguments."""
    expr, rest = _parse_command(tokens, offset)
    if rest:
        raise TemplateError(f"unexpected {rest[0][1]!r}", offset)
    return expr


def _parse_command(tokens: list[tuple[str, str]], offset: int) -> tuple[Any, list]:
    if not tokens:
        raise TemplateError("missing value", offset)
    kind, value = tokens[0]
    if kind == "ident":
        if value not in FUNCTIONS:
            raise TemplateError(f"function {value!r} is not supported (supported: {', '.join(FUNCTIONS)})", offset)
        args, rest = [], tokens[1:]
        while rest and rest[0] != ("paren", ")"):
            arg, rest = _parse_operand(rest, offset)
            args.append(arg)
        return ("call", value, args), rest
    return _parse_operand(tokens, offset)


def _parse_operand(tokens: list[tuple[str, str]], offset: int) -> tuple[Any, list]:
    kind, value = tokens[0]
    if kind == "paren" and value == "(":
        inner, rest = _parse_command(tokens[1:], offset)
        if not rest or rest[0] != ("paren", ")"):
            raise TemplateError("unclosed (", offset)
        return inner, rest[1:]
    if kind == "str":
        return ("lit", value[1:-1] if value[0] == "`" else bytes(value[1:-1], "utf-8").decode("unicode_escape")), \
            tokens[1:]
    if kind == "int":
        return ("lit", int(value)), tokens[1:]
    if kind == "field":
        return ("field", [p for p in value.split(".") if p]), tokens[1:]
    if kind == "ident":
        raise TemplateError(f"function {value!r} needs parentheses when used as an argument", offset)
    raise TemplateError(f"unexpected {value!r}", offset)


def parse(text: str) -> "Template":
    """Parse `text`; TemplateError says what is outside the subset and where."""
    root: list = []
    stack: list[tuple[Branch, list, int]] = []       # (branch, list being filled, else-if depth)
    current = root
    pos = 0
    pending_trim = False
    for m in _ACTION.finditer(text):
        chunk = text[pos:m.start()]
        if pending_trim:
            chunk = chunk.lstrip()
        if m.group(1):
            chunk = chunk.rstrip()
        if chunk:
            current.append(Text(chunk))
        pending_trim = bool(m.group(3))
        pos = m.end()
        body = m.group(2).strip()
        if body.startswith("/*"):
            continue
        tokens = _tokens(body, m.start())
        if not tokens:
            raise TemplateError("empty action {{}}", m.start())
        head = tokens[0]
        if head == ("ident", "if") or head == ("ident", "with"):
            branch = Branch(head[1], _parse_expr(tokens[1:], m.start()))
            current.append(branch)
            stack.append((branch, current, 0))
            current = branch.then
        elif head == ("ident", "else"):
            if not stack:
                raise TemplateError("{{else}} outside {{if}} or {{with}}", m.start())
            branch, parent, depth = stack.pop()
            if len(tokens) > 1:
                if tokens[1] != ("ident", "if"):
                    raise TemplateError(f"{{{{else {tokens[1][1]}}}}} is not supported", m.start())
                nested = Branch("if", _parse_expr(tokens[2:], m.start()))
                branch.otherwise.append(nested)
                stack.append((branch, parent, depth))
                stack.append((nested, branch.otherwise, -1))     # closed by the same {{end}}
                current = nested.then
            else:
                stack.append((branch, parent, depth))
                current = branch.otherwise
        elif head == ("ident", "end"):
            if not stack:
                raise TemplateError("{{end}} without {{if}} or {{with}}", m.start())
            while True:
                branch, parent, depth = stack.pop()
                if depth != -1:
                    break
            current = parent
        elif head[0] == "ident" and head[1] in ("range", "template", "define", "block", "break", "continue"):
            raise TemplateError(f"{{{{{head[1]}}}}} is not supported", m.start())
        else:
            current.append(Action(_parse_expr(tokens, m.start())))
    if stack:
        raise TemplateError(f"unclosed {{{{{stack[-1][0].kind}}}}}", len(text))
    tail = text[pos:]
    if pending_trim:
        tail = tail.lstrip()
    if "{{" in tail:
        raise TemplateError("unclosed action", pos + tail.index("{{"))
    if tail:
        root.append(Text(tail))
    return Template(text, root)


# -- evaluating -------------------------------------------------------------------------------

def _truth(value: Any) -> bool:
    return value not in (None, "", 0, False) and not (isinstance(value, (list, dict)) and not value)


def _show(value: Any) -> str:
    if value is None:
        return "<no value>"
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


@dataclass
class Template:
    source: str
    nodes: list

    def render(self, data: Any) -> str:
        out: list[str] = []
        self._run(self.nodes, data, out)
        return "".join(out)

    def _run(self, nodes: list, dot: Any, out: list[str]) -> None:
        for node in nodes:
            if isinstance(node, Text):
                out.append(node.text)
            elif isinstance(node, Action):
                out.append(_show(self._eval(node.expr, dot)))
            else:
                value = self._eval(node.cond, dot)
                if _truth(value):
                    self._run(node.then, value if node.kind == "with" else dot, out)
                else:
                    self._run(node.otherwise, dot, out)

    def _eval(self, expr: Any, dot: Any) -> Any:
        kind = expr[0]
        if kind == "lit":
            return expr[1]
        if kind == "field":
            value = dot
            for i, name in enumerate(expr[1]):
                if value is None:
                    raise TemplateExecError(f"nil pointer evaluating .{'.'.join(expr[1][:i + 1])}")
                value = _field(value, name)
            return value
        name, args = expr[1], [self._eval(a, dot) for a in expr[2]]
        if name in ("eq", "ne"):
            if len(args) < 2:
                raise TemplateExecError(f"{name} needs two arguments")
            equal = any(_same(args[0], other) for other in args[1:])
            return equal if name == "eq" else not equal
        if name == "index":
            value = args[0] if args else None
            for key in args[1:]:
                try:
                    value = value[key]
                except (IndexError, KeyError, TypeError) as exc:
                    raise TemplateExecError(f"error calling index: {exc}") from None
            return value
        if name == "not":
            return not _truth(args[0]) if args else True
        if name == "and":
            for arg in args:
                if not _truth(arg):
                    return arg
            return args[-1] if args else None
        for arg in args:                              # or
            if _truth(arg):
                return arg
        return args[-1] if args else None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b) and not (a is None or b is None):
        raise TemplateExecError(f"incompatible types for comparison: {a!r} and {b!r}")
    return a == b


# -- the Go view of a ProwJob -----------------------------------------------------------------

_POINTERS = frozenset({"Refs", "ExtraRefs", "Pulls", "DecorationConfig", "ReporterConfig", "RerunAuthConfig",
                       "PodSpec", "JenkinsSpec", "PipelineRunSpec", "ProwJobDefault", "PendingTime",
                       "CompletionTime", "PrevReportStates", "GCSConfiguration", "UtilityImages", "Resources"})
_CAMEL_KEYS = {"StartTime": "startTime", "PendingTime": "pendingTime", "CompletionTime": "completionTime"}
_ACRONYMS = ("ID", "SHA", "URL", "URI")


def json_key(go_name: str) -> str:
    """A Go field name as Prow's JSON tag spells it: `BuildID` → `build_id`, `BaseSHA` → `base_sha`."""
    if go_name in _CAMEL_KEYS:
        return _CAMEL_KEYS[go_name]
    for acronym in _ACRONYMS:
        go_name = re.sub(f"{acronym}(?=[A-Z]|$)", acronym.capitalize(), go_name)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", go_name).lower()


class GoStruct:
    """A JSON object read by Go field names (`.Spec` → "spec"); absent fields are zero values."""

    def __init__(self, doc: dict, aliases: dict[str, Any] | None = None):
        self.doc = doc
        self.aliases = aliases or {}

    def get(self, name: str) -> Any:
        if name in self.aliases:
            return self.aliases[name]
        value = self.doc.get(json_key(name))
        if value is None and name not in _POINTERS:
            return ""                 # an omitted string (or number) field: Go prints its zero value
        return _wrap(value)


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return GoStruct(value)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _field(value: Any, name: str) -> Any:
    if isinstance(value, GoStruct):
        return value.get(name)
    if isinstance(value, dict):
        return value.get(name)
    raise TemplateExecError(f"can't evaluate field {name} in {type(value).__name__}")


def go_view(prowjob: dict) -> GoStruct:
    """A ProwJob's JSON as the Go template sees it (ObjectMeta's fields are promoted: `.Name`)."""
    meta = prowjob.get("metadata") or {}
    meta_view = GoStruct(meta, {"Labels": dict(meta.get("labels") or {}),
                                "Annotations": dict(meta.get("annotations") or {})})
    return GoStruct(prowjob, {"ObjectMeta": meta_view, "Name": meta.get("name", ""),
                              "Namespace": meta.get("namespace", ""), "Labels": meta_view.get("Labels"),
                              "Annotations": meta_view.get("Annotations"),
                              "Spec": _wrap(prowjob.get("spec") or {}), "Status": _wrap(prowjob.get("status") or {})})


def render_for_job(template: str | Template, prowjob: dict) -> str:
    compiled = parse(template) if isinstance(template, str) else template
    return compiled.render(go_view(prowjob))
