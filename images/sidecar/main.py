"""sidecar for Azure Blob: waits for the test, then uploads what the run left.

Reads `JOB_SPEC` and `SIDECAR_OPTIONS` (Prow's: `gcs_options` with `items`, `entries` = the
entrypoint wrappers with their process log, marker file and metadata file, `ignore_interrupts`).
Waits until every entry's marker file holds an exit code. SIGTERM/SIGINT (the pod being deleted,
an abort) stops the wait at once unless `ignore_interrupts`; an entry without a marker then counts
as aborted (130). Then writes `build-log.txt` (`<container>-build-log.txt` per container when
there are several), `finished.json` (`passed`, `result` SUCCESS/FAILURE/ABORTED, `metadata` from
the test's metadata.json, `revision`), every item (`artifacts/**`, nested), `sidecar-logs.json` and
the pointers. Logs are streamed from disk. Exits 0 whatever the test did; upload errors are
logged (and listed in sidecar-logs.json when that can still be written).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))   # images/ → the app root

from images import podutils  # noqa: E402
from shared.artifacts import paths, records  # noqa: E402
from shared.artifacts.store import Upload  # noqa: E402

POLL_SECONDS = float(os.environ.get("SIDECAR_POLL_SECONDS", "1"))


def read_marker(path: str) -> int | None:
    try:
        text = Path(path).read_text().strip()
    except OSError:
        return None
    try:
        return int(text)
    except ValueError:
        podutils.log.error("marker %s holds %r, not an exit code: counted as failed", path, text)
        return 1


def wait_for_markers(entries: list[dict], interrupted: threading.Event) -> list[int]:
    codes: dict[int, int] = {}
    while True:
        for index, entry in enumerate(entries):
            if index not in codes:
                code = read_marker(entry["marker_file"])
                if code is not None:
                    codes[index] = code
        if len(codes) == len(entries):
            break
        if interrupted.wait(POLL_SECONDS):
            podutils.log.error("interrupted before %d of %d entries finished: uploading now",
                               len(entries) - len(codes), len(entries))
            break
    return [codes.get(i, records.ABORTED_EXIT_CODE) for i in range(len(entries))]


def finished_metadata(entries: list[dict]) -> dict:
    merged: dict = {}
    for entry in entries:
        path = entry.get("metadata_file")
        if not path or not os.path.exists(path):
            continue
        try:
            value = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            podutils.log.error("ignoring %s: %s", path, exc)
            continue
        if isinstance(value, dict):
            merged.update(value)
    return merged


def main() -> int:
    podutils.setup_logging()
    job_spec = podutils.load_json_env("JOB_SPEC")
    options = podutils.load_json_env("SIDECAR_OPTIONS")
    gcs = options.get("gcs_options") or {}
    entries = options.get("entries") or []
    where = podutils.layout(gcs, job_spec)

    interrupted = threading.Event()

    def on_signal(signum, _frame):
        if options.get("ignore_interrupts"):
            podutils.log.info("signal %s ignored (upload_ignores_interrupts)", signum)
        else:
            interrupted.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    codes = wait_for_markers(entries, interrupted)
    passed, result = records.result_of(codes)
    errors: list[str] = []
    store = podutils.store_from_env(gcs)

    def attempt(what: str, action) -> None:
        try:
            action()
        except Exception as exc:   # an upload error must not stop the other uploads
            podutils.log.error("upload of %s failed: %s", what, exc)
            errors.append(f"{what}: {exc}")

    logs = [Upload(where.path(paths.BUILD_LOG if len(entries) == 1 else
                              f"{entry.get('container_name', '')}-{paths.BUILD_LOG}"), Path(entry["process_log"]))
            for entry in entries if os.path.exists(entry.get("process_log", ""))]
    attempt("build logs", lambda: store.upload_all(logs))
    for item in gcs.get("items") or []:
        item_path = Path(item)
        if item_path.is_dir():
            attempt(item, lambda p=item_path: store.upload_tree(p, where.path(p.name)))
        elif item_path.is_file():
            attempt(item, lambda p=item_path: store.upload_file(where.path(p.name), p))
    doc = records.finished(podutils.now(), passed, result, metadata=finished_metadata(entries),
                           revision=records.revision(job_spec))
    attempt(paths.FINISHED, lambda: store.write_json(where.path(paths.FINISHED), doc))
    attempt("pointers", lambda: podutils.write_pointers(store, where))
    attempt(paths.SIDECAR_LOGS, lambda: store.write_json(where.path(paths.SIDECAR_LOGS), {
        "exit_codes": codes, "passed": passed, "result": result, "errors": errors}))
    podutils.log.info("uploaded the run to %s (%s)", where.run_url, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
