"""initupload for Azure Blob: the run's first files, written before the test starts.

Reads `JOB_SPEC` and `INITUPLOAD_OPTIONS` (Prow's: the `gcs_configuration` fields, and `log`, the
clone records clonerefs wrote). Writes `started.json` (with the SHA the clone got),
`clone-log.txt`, `clone-records.json`, the `latest-build.txt` pointers and the directory alias.
When a clone failed it also writes `build-log.txt` (the clone log) and `finished.json`
(FAILURE) and exits 1, so the pod fails before the test runs on an incomplete checkout.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))   # images/ → the app root

from images import podutils  # noqa: E402
from shared.artifacts import paths, records  # noqa: E402


def main() -> int:
    podutils.setup_logging()
    job_spec = podutils.load_json_env("JOB_SPEC")
    options = podutils.load_json_env("INITUPLOAD_OPTIONS")
    where = podutils.layout(options, job_spec)
    store = podutils.store_from_env(options)

    clone_records: list = []
    if options.get("log"):
        try:
            clone_records = json.loads(Path(options["log"]).read_text())
        except (OSError, ValueError) as exc:
            podutils.log.error("could not read the clone records %s: %s", options["log"], exc)
            clone_records = [{"failed": True, "commands": [{"command": "read clone records",
                                                             "error": str(exc)}]}]
    started = records.started(job_spec, podutils.now(), clone_records=clone_records)
    store.write_json(where.path(paths.STARTED), started)
    failed = records.clone_failed(clone_records)
    if options.get("log"):
        clone_log = records.format_clone_log(clone_records)
        store.write(where.path(paths.CLONE_LOG), clone_log)
        store.write_json(where.path(paths.CLONE_RECORDS), clone_records)
        if failed:
            store.write(where.path(paths.BUILD_LOG), clone_log)
            store.write_json(where.path(paths.FINISHED),
                             records.finished(podutils.now(), False, records.FAILURE))
    podutils.write_pointers(store, where)
    if failed:
        podutils.log.error("the clone failed: the test will not run (see %s)", where.path(paths.CLONE_LOG))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
