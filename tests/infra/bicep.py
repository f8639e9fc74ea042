"""Reading the Bicep under infra/ (parsed with pycep-parser) and the settings and storage names the code uses.

pycep gives a syntax tree without semantics: identifiers and string literals both come back as plain
strings, a conditional or looped resource nests its body one level deeper, and expressions are
`{"operator": ...}` / `{"function": ...}` dicts. The helpers here hide that.
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
CODE_DIRS = ("shared", "functions")
CODE_FILES = ("function_app.py",)


def bicep_files() -> list[Path]:
    return sorted(INFRA.rglob("*.bicep"))


@lru_cache(maxsize=None)
def parse(path: Path) -> dict:
    from pycep import BicepParser
    return BicepParser().parse(text=path.read_text())


def main() -> dict:
    return parse(INFRA / "main.bicep")


def module_tree(name: str) -> dict:
    return parse(INFRA / "modules" / f"{name}.bicep")


def body(resource: dict) -> dict:
    """The `{name, properties, ...}` of a resource or module, also when it has a condition or a loop."""
    config = resource["config"]
    while "config" in config and ("condition" in config or "loop_type" in config):
        config = config["config"]
    return config


def all_resources() -> Iterator[tuple[Path, str, dict]]:
    for path in bicep_files():
        for name, resource in parse(path)["resources"].items():
            yield path, name, resource


def resources_of_type(tree: dict, type_: str) -> dict[str, dict]:
    return {name: r for name, r in tree["resources"].items() if r["type"] == type_}


def accessor(expr: Any) -> list[str]:
    """`a.b.c` as ["a", "b", "c"]; a plain identifier as [name]; anything else as []."""
    if isinstance(expr, str):
        return [expr]
    if isinstance(expr, dict) and expr.get("operator", {}).get("type") == "property_accessor":
        ops = expr["operator"]["operands"]
        return accessor(ops["operand_1"]) + accessor(ops["operand_2"])
    return []


def branches(value: Any) -> list[Any]:
    """The possible values of an expression: both sides of `c ? a : b`, else the value itself."""
    if isinstance(value, dict) and value.get("operator", {}).get("type") == "conditional":
        ops = value["operator"]["operands"]
        return branches(ops["true_value"]) + branches(ops["false_value"])
    return [value]


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def function_app() -> dict:
    (site,) = resources_of_type(main(), "Microsoft.Web/sites").values()
    return body(site)


def app_settings() -> dict[str, Any]:
    settings = function_app()["properties"]["siteConfig"]["appSettings"]
    return {s["name"]: s["value"] for s in settings}


def variable(tree: dict, name: str) -> Any:
    return tree["variables"][name]["value"]


# -- what the code reads --------------------------------------------------------------------------------

SETTING_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_ENV_NAMES = {"env", "environ", "environment"}


def code_files() -> list[Path]:
    files = [ROOT / f for f in CODE_FILES]
    for d in CODE_DIRS:
        files += sorted((ROOT / d).rglob("*.py"))
    return files


def _module_constants(tree: ast.Module) -> dict[str, Any]:
    constants: dict[str, Any] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                constants[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                pass
    return constants


def _is_env(node: ast.AST) -> bool:
    """`os.environ`, `env`, `environ`, `(os.environ if env is None else env)`."""
    if isinstance(node, ast.Name):
        return node.id in _ENV_NAMES
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    if isinstance(node, ast.IfExp):
        return _is_env(node.body) or _is_env(node.orelse)
    return False


def _strings(node: ast.AST, constants: dict[str, Any]) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and isinstance(constants.get(node.id), str):
        return [constants[node.id]]
    return []


def settings_read(source: str) -> tuple[set[str], set[str]]:
    """(app settings read from the environment, connection settings named in bindings) in one module.

    Reads: `env.get("X")`, `os.environ.get(X_SETTING)`, `os.environ["X"]`, `os.getenv("X")`, and the names
    in a loop over a module constant (`for name in (*SETTINGS, "Y"): os.environ.get(name)`).
    Connections: the `connection="X"` keyword of a trigger or binding decorator.
    """
    tree = ast.parse(source)
    constants = _module_constants(tree)
    reads: set[str] = set()
    connections: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == "get" and _is_env(func.value) and node.args:
                reads.update(_strings(node.args[0], constants))
                if isinstance(node.args[0], ast.Name) and node.args[0].id not in constants:
                    reads.update(_loop_names(tree, node.args[0].id, constants))
            elif isinstance(func, ast.Attribute) and func.attr == "getenv" and node.args:
                reads.update(_strings(node.args[0], constants))
            for kw in node.keywords:
                if kw.arg == "connection":
                    connections.update(_strings(kw.value, constants))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_env(node.value):
            reads.update(_strings(node.slice, constants))
    return {r for r in reads if SETTING_NAME.match(r)}, connections


def _loop_names(tree: ast.Module, var: str, constants: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.comprehension) and isinstance(node.target, ast.Name) and node.target.id == var:
            names.update(_flatten(node.iter, constants))
        elif isinstance(node, ast.For) and isinstance(node.target, ast.Name) and node.target.id == var:
            names.update(_flatten(node.iter, constants))
    return names


def _flatten(node: ast.AST, constants: dict[str, Any]) -> set[str]:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        out: set[str] = set()
        for elt in node.elts:
            out |= _flatten(elt.value if isinstance(elt, ast.Starred) else elt, constants)
        return out
    if isinstance(node, ast.Name) and isinstance(constants.get(node.id), (tuple, list)):
        return {v for v in constants[node.id] if isinstance(v, str)}
    return set(_strings(node, constants))


def code_settings() -> tuple[set[str], set[str]]:
    reads: set[str] = set()
    connections: set[str] = set()
    for path in code_files():
        r, c = settings_read(path.read_text())
        reads |= r
        connections |= c
    return reads, connections


def readme_settings() -> set[str]:
    """The names in the first column of the README's "App settings" table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## App settings", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Za-z][A-Za-z0-9_]*)`", line.split("|")[1]))
    return names


STORAGE_CONSTANT = re.compile(r"^[A-Z0-9_]+_(QUEUE|TABLE|CONTAINER)$")


def code_storage_names() -> dict[str, set[str]]:
    """Queue, table and container names that the code declares as module constants (`X_QUEUE = "..."`)
    or binds triggers to (`queue_name="..."`)."""
    found: dict[str, set[str]] = {"QUEUE": set(), "TABLE": set(), "CONTAINER": set()}
    for path in code_files():
        tree = ast.parse(path.read_text())
        pod_module = (ROOT / "shared" / "kube") in path.parents  # its *_CONTAINER names are pod containers
        for name, value in _module_constants(tree).items():
            m = STORAGE_CONSTANT.match(name)
            if m and isinstance(value, str) and not (pod_module and m.group(1) == "CONTAINER"):
                found[m.group(1)].add(value)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "queue_name" and isinstance(kw.value, ast.Constant):
                        found["QUEUE"].add(kw.value.value)
    return found


def trigger_queues() -> set[str]:
    queues: set[str] = set()
    for path in code_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "queue_trigger"):
                queues.update(kw.value.value for kw in node.keywords
                              if kw.arg == "queue_name" and isinstance(kw.value, ast.Constant))
    return queues
