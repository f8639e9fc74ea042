"""What our two pod utilities share: their options, the artifact store from the pod's env, the pointers.

The programs run inside the job's pod with `PYTHONPATH` holding the app's `shared/artifacts`
(copied into the images) and this package. Options keep Prow's env names: `JOB_SPEC`,
`INITUPLOAD_OPTIONS` / `SIDECAR_OPTIONS`; storage comes from `PROW_ARTIFACTS_ACCOUNT_URL`,
`PROW_ARTIFACTS_CONTAINER` and either `PROW_ARTIFACTS_SAS` or the workload-identity env
(`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE`).
"""
from __future__ import annotations

import json
import logging
import os
import time
from typing import Any, Mapping

from shared.artifacts.paths import LATEST_BUILD, Layout
from shared.artifacts.store import ArtifactStore

log = logging.getLogger("podutils")


class OptionsError(SystemExit):
    """Bad or missing options: the program cannot run (exit code 2)."""

    def __init__(self, message: str):
        logging.getLogger("podutils").error("%s", message)
        super().__init__(2)


def load_json_env(name: str, env: Mapping[str, str] | None = None) -> Any:
    env = os.environ if env is None else env
    text = env.get(name, "")
    if not text:
        raise OptionsError(f"{name} is not set")
    try:
        return json.loads(text)
    except ValueError as exc:
        raise OptionsError(f"{name} is not JSON: {exc}") from None


def store_from_env(gcs: Mapping[str, Any], env: Mapping[str, str] | None = None) -> ArtifactStore:
    env = os.environ if env is None else env
    account_url = env.get("PROW_ARTIFACTS_ACCOUNT_URL", "")
    container = env.get("PROW_ARTIFACTS_CONTAINER", "")
    if not account_url or not container:
        raise OptionsError("PROW_ARTIFACTS_ACCOUNT_URL and PROW_ARTIFACTS_CONTAINER must be set")
    credential: Any
    if env.get("PROW_ARTIFACTS_SAS"):
        credential = env["PROW_ARTIFACTS_SAS"]
    elif env.get("AZURE_FEDERATED_TOKEN_FILE"):
        from azure.identity import WorkloadIdentityCredential
        credential = WorkloadIdentityCredential()
    else:
        from azure.identity import DefaultAzureCredential
        credential = DefaultAzureCredential()
    return ArtifactStore.from_account(account_url, container, credential, media_types=gcs.get("mediaTypes"))


def layout(gcs: Mapping[str, Any], job_spec: Mapping[str, Any]) -> Layout:
    try:
        return Layout.for_job(gcs, job_spec)
    except ValueError as exc:
        raise OptionsError(str(exc)) from None


def write_pointers(store: ArtifactStore, where: Layout) -> None:
    """latest-build.txt (each place Prow writes one) and, for presubmits, the directory alias."""
    for path in where.latest_build_paths:
        store.write(path, where.build_id)
    if where.alias_path:
        store.write(where.alias_path, where.run_url, metadata={"link": where.run_url})


def now() -> int:
    return int(time.time())


def setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format='{"level":"%(levelname)s","msg":%(message)r}')
