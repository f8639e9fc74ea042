"""The JSON files of a run, with Prow's keys in Prow's order (testgrid `metadata.Started/Finished`).

started.json and finished.json are written compact by the pod utilities; the fallbacks the
reconciler writes (crier's gcsreporter) are tab-indented and carry `"metadata": {"uploader": "crier"}`.
Results: SUCCESS / FAILURE / ABORTED upper case from the pod; the lower-case job state from crier.
"""
from __future__ import annotations

import json
from typing import Any, Iterable, Mapping

SUCCESS, FAILURE, ABORTED = "SUCCESS", "FAILURE", "ABORTED"
ABORTED_EXIT_CODE = 130            # entrypoint: terminated by a signal
TIMED_OUT_EXIT_CODE = 127          # entrypoint: could not start, or timed out
CRIER_METADATA = {"uploader": "crier"}


def dumps(value: Any, *, indent: str | None = None) -> str:
    """Go's encoding/json output: compact, or `MarshalIndent(v, "", "\\t")`."""
    if indent is None:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(value, indent=indent, ensure_ascii=False)


def refs_string(refs: Mapping[str, Any]) -> str:
    """Prow's `Refs.String()`: `base_ref[:base_sha]` then `,number:sha[:ref]` per pull."""
    text = refs.get("base_ref", "")
    if refs.get("base_sha"):
        text += f":{refs['base_sha']}"
    for pull in refs.get("pulls") or []:
        text += f",{pull.get('number')}:{pull.get('sha', '')}"
        if pull.get("ref"):
            text += f":{pull['ref']}"
    return text


def _all_refs(job_spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    refs = [job_spec["refs"]] if job_spec.get("refs") else []
    return refs + list(job_spec.get("extra_refs") or [])


def main_ref_fallback(job_spec: Mapping[str, Any]) -> str:
    """pull SHA → base SHA → base ref of the primary refs (started's repo-commit without a clone)."""
    refs = (_all_refs(job_spec) or [{}])[0]
    pulls = refs.get("pulls") or []
    if pulls and pulls[0].get("sha"):
        return pulls[0]["sha"]
    return refs.get("base_sha") or refs.get("base_ref") or ""


def revision(job_spec: Mapping[str, Any]) -> str:
    """finished.json `revision`: pulls[0].sha | base_sha | base_ref."""
    return main_ref_fallback(job_spec)


def started(job_spec: Mapping[str, Any], timestamp: int, *, clone_records: Iterable[Mapping] | None = None,
            node: str = "", metadata: Mapping | None = None) -> dict[str, Any]:
    """started.json. `repo-commit` is the SHA the clone got for the primary refs (its `final_sha`)."""
    doc: dict[str, Any] = {"timestamp": int(timestamp)}
    if node:
        doc["node"] = node
    refs = job_spec.get("refs") or {}
    if job_spec.get("type") == "presubmit" and refs.get("pulls"):
        doc["pull"] = str(refs["pulls"][0].get("number", ""))
    repos = {f"{r.get('org', '')}/{r.get('repo', '')}": refs_string(r) for r in _all_refs(job_spec)}
    if repos:
        doc["repos"] = dict(sorted(repos.items()))
    commit = ""
    primary = (_all_refs(job_spec) or [None])[0]
    for record in clone_records or []:
        record_refs = record.get("refs") or {}
        if primary and (record_refs.get("org"), record_refs.get("repo")) == (primary.get("org"), primary.get("repo")):
            commit = record.get("final_sha") or ""
            break
    commit = commit or main_ref_fallback(job_spec)
    if commit:
        doc["repo-commit"] = commit
    if metadata:
        doc["metadata"] = dict(metadata)
    if commit:
        doc["repo-version"] = commit
    return doc


def result_of(exit_codes: Iterable[int]) -> tuple[bool, str]:
    """(passed, result) from the entrypoints' marker codes, as Prow's sidecar decides."""
    codes = list(exit_codes)
    passed = bool(codes) and all(code == 0 for code in codes)
    if passed:
        return True, SUCCESS
    if ABORTED_EXIT_CODE in codes:
        return False, ABORTED
    return False, FAILURE


def finished(timestamp: int, passed: bool, result: str, *, metadata: Mapping | None = None,
             revision: str = "") -> dict[str, Any]:
    doc: dict[str, Any] = {"timestamp": int(timestamp), "passed": bool(passed)}
    if metadata:
        doc["metadata"] = dict(metadata)
    doc["result"] = result
    if revision:
        doc["revision"] = revision
    return doc


def clone_failed(records: Iterable[Mapping]) -> bool:
    return any(record.get("failed") for record in records)


def format_clone_log(records: Iterable[Mapping]) -> str:
    """clone-log.txt: the clone records as text a person reads (commands, their output, errors)."""
    lines: list[str] = []
    for record in records:
        refs = record.get("refs") or {}
        what = f"{refs.get('org', '')}/{refs.get('repo', '')}"
        if refs:
            what += f" at {refs_string(refs)}"
        state = "FAILED" if record.get("failed") else "succeeded"
        lines.append(f"Cloning {what}: {state}" + (f", final SHA {record['final_sha']}" if record.get("final_sha") else ""))
        for command in record.get("commands") or []:
            lines.append(f"$ {command.get('command', '')}")
            if command.get("output"):
                lines.append(str(command["output"]).rstrip("\n"))
            if command.get("error"):
                lines.append(f"error: {command['error']}")
        lines.append("")
    return "\n".join(lines)


# -- the reconciler's records (crier's gcsreporter and gcsk8sreporter) ------------------------------

def crier_started(job: Mapping[str, Any], timestamp: int) -> dict[str, Any]:
    spec = {**(job.get("spec") or {})}
    doc = started(spec, timestamp, metadata=CRIER_METADATA)
    return doc


def crier_finished(state: str, timestamp: int) -> dict[str, Any]:
    """finished.json for a run the pod could not finish: the job's own (lower-case) state."""
    return {"timestamp": int(timestamp), "passed": state == "success", "metadata": dict(CRIER_METADATA),
            "result": state}


def podinfo(pod: Mapping[str, Any] | None, events: Iterable[Mapping] = (), node: Mapping | None = None) -> dict:
    doc: dict[str, Any] = {"pod": dict(pod or {}), "events": list(events)}
    if node:
        doc["node"] = dict(node)
    return doc
