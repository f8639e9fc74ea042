"""Upload throughput of our sidecar program to Azurite, against azure-storage-blob's own upload.

Two data sets, each uploaded in a fresh process (startup and imports counted for both sides):
- one 200 MB build log: the sidecar (marker 0, the log as its process log) vs the SDK's
  `upload_blob(stream, length=…, max_concurrency=4)` of the same file;
- 5,000 small artifacts (1 KiB, in nested folders): the sidecar's `artifacts/` upload vs the SDK's
  `upload_blob` of each file on a 16-thread pool (the same parallelism).
Runs alternate (sidecar, SDK, sidecar, SDK …) so drift hits both; the figure is the median ratio
of wall times (target: within 1.2x). Every upload goes into a new, empty Azurite (started outside
the timing): persisting to a temporary directory for the log (its in-memory store holds 512 MB), in
memory for the small files.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import ROOT, alternate, summary

LOG_BYTES = 200 * 1024 * 1024
SMALL_FILES = 5000

SDK_LOG = """
import sys
from pathlib import Path
from azure.storage.blob import ContainerClient
client = ContainerClient(sys.argv[1], sys.argv[2], credential=sys.argv[3], max_block_size=8 << 20,
                         max_single_put_size=8 << 20)
path = Path(sys.argv[4])
with path.open("rb") as stream:
    client.upload_blob(sys.argv[5], stream, length=path.stat().st_size, overwrite=True, max_concurrency=4)
"""

SDK_TREE = """
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from azure.storage.blob import ContainerClient
client = ContainerClient(sys.argv[1], sys.argv[2], credential=sys.argv[3])
root = Path(sys.argv[4])
files = [p for p in root.rglob("*") if p.is_file()]
def put(p):
    with p.open("rb") as stream:
        client.upload_blob(sys.argv[5] + "/" + p.relative_to(root).as_posix(), stream, overwrite=True)
with ThreadPoolExecutor(16) as pool:
    list(pool.map(put, files))
"""


def _prepare(tmp: Path) -> tuple[Path, Path]:
    big = tmp / "big" / "logs"
    (big / "artifacts").mkdir(parents=True)
    line = b"x" * 1023 + b"\n"
    with (big / "process-log.txt").open("wb") as log:
        for _ in range(LOG_BYTES // len(line)):
            log.write(line)
    (big / "marker-file.txt").write_text("0")
    small = tmp / "small" / "logs"
    for i in range(SMALL_FILES):
        path = small / "artifacts" / f"suite-{i % 50}" / f"case-{i % 7}" / f"result-{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"y" * 1024)
    (small / "process-log.txt").write_text("ok\n")
    (small / "marker-file.txt").write_text("0")
    return big, small


def _sidecar_env(logs: Path, account_url: str, container: str, sas: str, build: str) -> dict:
    job_spec = {"type": "periodic", "job": "bench", "buildid": build, "prowjobid": build}
    options = {"gcs_options": {"bucket": f"gs://{container}", "path_strategy": "explicit",
                               "items": [str(logs / "artifacts")]},
               "entries": [{"args": ["true"], "container_name": "test", "process_log": str(logs / "process-log.txt"),
                            "marker_file": str(logs / "marker-file.txt"),
                            "metadata_file": str(logs / "artifacts" / "metadata.json")}]}
    return {"PATH": os.environ.get("PATH", ""), "JOB_SPEC": json.dumps(job_spec), "SIDECAR_OPTIONS": json.dumps(options),
            "PROW_ARTIFACTS_ACCOUNT_URL": account_url, "PROW_ARTIFACTS_CONTAINER": container,
            "PROW_ARTIFACTS_SAS": sas, "SIDECAR_POLL_SECONDS": "0.05"}


def _timed(cmd: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"benchmark process failed: {out.stderr[-2000:]}")
    return elapsed


def run(runs: int = 2) -> dict:
    from tests import azurite as azurite_mod
    from tests.artifacts.podrun import blob_url, container_sas
    from datetime import timedelta
    from azure.storage.blob import ContainerClient

    results: dict = {"log_bytes": LOG_BYTES, "small_files": SMALL_FILES, "runs": runs}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        big, small = _prepare(tmp / "data")
        sidecar = [sys.executable, str(ROOT / "images" / "sidecar" / "main.py")]
        cases = (("log_200mb", big, SDK_LOG, big / "process-log.txt", tmp / "azurite"),
                 ("small_5000", small, SDK_TREE, small / "artifacts", None))
        for case, logs, script, source, location in cases:
            def fresh(upload, location=location):
                """One timed upload into a new, empty Azurite (started and stopped outside the timing)."""
                def run_once():
                    azurite = azurite_mod.start(location=location / uuid.uuid4().hex if location else None)
                    try:
                        url, container = blob_url(azurite), "bench-artifacts"
                        ContainerClient(url, container, credential={"account_name": azurite_mod.ACCOUNT,
                                                                    "account_key": azurite_mod.KEY}).create_container()
                        return upload(url, container, container_sas(container, timedelta(hours=2)))
                    finally:
                        azurite.stop()
                return run_once

            def ours(url, container, sas, logs=logs):
                return _timed(sidecar, _sidecar_env(logs, url, container, sas, uuid.uuid4().hex))

            def sdk(url, container, sas, script=script, source=source):
                return _timed([sys.executable, "-c", script, url, container, sas, str(source), "sdk/upload"])

            t_ours, t_sdk, ratios = alternate(fresh(ours), fresh(sdk), runs)
            results[case] = {"sidecar": summary(t_ours), "sdk": summary(t_sdk), "ratio": summary(ratios)}
            print(case, json.dumps(results[case]), file=sys.stderr, flush=True)
            if location:
                shutil.rmtree(location, ignore_errors=True)
    results["log_200mb"]["sidecar_mb_per_s"] = LOG_BYTES / 2**20 / results["log_200mb"]["sidecar"]["median"]
    results["log_200mb"]["sdk_mb_per_s"] = LOG_BYTES / 2**20 / results["log_200mb"]["sdk"]["median"]
    results["small_5000"]["sidecar_files_per_s"] = SMALL_FILES / results["small_5000"]["sidecar"]["median"]
    results["small_5000"]["sdk_files_per_s"] = SMALL_FILES / results["small_5000"]["sdk"]["median"]
    return results


def lines(r: dict) -> list[str]:
    big, small = r["log_200mb"], r["small_5000"]
    return [f"sidecar upload of a 200 MB log: {big['sidecar']['median']:.2f} s ({big['sidecar_mb_per_s']:.0f} MB/s) "
            f"vs azure-storage-blob {big['sdk']['median']:.2f} s ({big['sdk_mb_per_s']:.0f} MB/s): "
            f"ratio {big['ratio']['median']:.2f}x (target within 1.2x)",
            f"sidecar upload of 5,000 small artifacts: {small['sidecar']['median']:.2f} s "
            f"({small['sidecar_files_per_s']:.0f} files/s) vs azure-storage-blob on 16 threads "
            f"{small['sdk']['median']:.2f} s ({small['sdk_files_per_s']:.0f} files/s): "
            f"ratio {small['ratio']['median']:.2f}x (target within 1.2x)"]


if __name__ == "__main__":
    result = run()
    print("\n".join(lines(result)))
