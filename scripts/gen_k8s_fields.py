"""Generate shared/config/k8s_fields.json: the field names of the Kubernetes types Prow embeds.

Prow's job config embeds core/v1 types (a job's `spec` is a PodSpec; presets and decoration
`scheduling_options` carry EnvVar, Volume, VolumeMount, Toleration, Affinity; decoration
`resources` are ResourceRequirements). Prow decodes them strictly, so an unknown field anywhere
inside is an unknown-fields warning. Rather than typing these names by hand, this script reads
them from the Kubernetes OpenAPI definitions bundled in the PyPI package `kubernetes-validate`
and writes the closure of the types reachable from those roots.

The package is only a data source for this script: it is downloaded (no dependencies, not
installed) and read as a zip, so neither the app nor the dev venv gains a dependency.

    .venv/bin/python scripts/gen_k8s_fields.py             # download the pinned wheel
    .venv/bin/python scripts/gen_k8s_fields.py --wheel X   # or use a local wheel

Output format (read by shared/config/schema.py): {"types": {name: {field: ref}}} where ref is
"" for a value that is not walked (scalars, quantities, free-form maps such as labels), "T" for a
nested object of type T, "[]T" for a list of T, "{}T" for a map of string to T.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "kubernetes-validate"
PACKAGE_VERSION = "1.37.0"
KUBERNETES_VERSION = "1.37.0"
DEFINITIONS = f"kubernetes_validate/kubernetes-json-schema/v{KUBERNETES_VERSION}-local/_definitions.json"

ROOTS = (
    "io.k8s.api.core.v1.PodSpec",
    "io.k8s.api.core.v1.Container",
    "io.k8s.api.core.v1.EnvVar",
    "io.k8s.api.core.v1.Volume",
    "io.k8s.api.core.v1.VolumeMount",
    "io.k8s.api.core.v1.Toleration",
    "io.k8s.api.core.v1.Affinity",
    "io.k8s.api.core.v1.ResourceRequirements",
)

OUTPUT = Path(__file__).resolve().parents[1] / "shared" / "config" / "k8s_fields.json"


def short_name(full: str) -> str:
    """io.k8s.api.core.v1.PodSpec -> core.v1.PodSpec; io.k8s.apimachinery.pkg.apis.meta.v1.X -> meta.v1.X."""
    for prefix in ("io.k8s.api.", "io.k8s.apimachinery.pkg.apis.", "io.k8s.apimachinery.pkg."):
        if full.startswith(prefix):
            return full[len(prefix):]
    return full


def is_struct(definition: dict) -> bool:
    """A definition Go decodes field by field: it lists properties and keeps no unknown ones."""
    return "properties" in definition and not definition.get("x-kubernetes-preserve-unknown-fields")


def encode(schema: dict, definitions: dict, pending: list[str]) -> str:
    ref = schema.get("$ref")
    if ref:
        target = ref.rsplit("/", 1)[-1]
        if is_struct(definitions[target]):
            pending.append(target)
            return short_name(target)
        return ""
    for key, marker in (("items", "[]"), ("additionalProperties", "{}")):
        inner = schema.get(key)
        if isinstance(inner, dict):
            element = encode(inner, definitions, pending)
            return marker + element if element else ""
    return ""


def closure(definitions: dict) -> dict[str, dict[str, str]]:
    types: dict[str, dict[str, str]] = {}
    pending = list(ROOTS)
    seen: set[str] = set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        fields = {field: encode(schema, definitions, pending)
                  for field, schema in definitions[name]["properties"].items()}
        types[short_name(name)] = dict(sorted(fields.items()))
    return dict(sorted(types.items()))


def read_definitions(wheel: Path) -> dict:
    with zipfile.ZipFile(wheel) as archive:
        return json.loads(archive.read(DEFINITIONS))["$defs"]


def download_wheel(directory: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    "--only-binary", ":all:", "-d", str(directory), f"{PACKAGE}=={PACKAGE_VERSION}"],
                   check=True)
    return next(directory.glob("kubernetes_validate-*.whl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wheel", type=Path, help=f"a local {PACKAGE}=={PACKAGE_VERSION} wheel")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        definitions = read_definitions(wheel)
    types = closure(definitions)
    roots = [short_name(root) for root in ROOTS]
    document = {"source": f"{PACKAGE}=={PACKAGE_VERSION} (Kubernetes {KUBERNETES_VERSION} OpenAPI)",
                "generator": "scripts/gen_k8s_fields.py", "roots": roots, "types": types}
    # One type per line: compact, yet a regeneration shows up as a readable diff.
    lines = [f"  {json.dumps(name)}: {json.dumps(fields, separators=(',', ':'))}"
             for name, fields in types.items()]
    header = {key: value for key, value in document.items() if key != "types"}
    text = json.dumps(header, indent=1)[:-2] + ',\n "types": {\n' + ",\n".join(lines) + "\n }\n}\n"
    assert json.loads(text) == document
    args.output.write_text(text)
    print(f"wrote {len(types)} types to {args.output}")


if __name__ == "__main__":
    main()
