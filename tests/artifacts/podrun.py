"""Run our pod utilities here as the decorated pod would: its env, a prepared /logs, Azurite.

`PodRun` takes the env of the `initupload` and `sidecar` containers from a decorated pod spec,
points them at Azurite with a container SAS (what `PROW_ARTIFACTS_AUTH=sas` gives a pod), maps
the pod's `/logs` onto a temporary directory, and runs `images/*/main.py` as processes.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from shared.artifacts.decorate import Decorator, StorageAccess
from shared.artifacts.store import ArtifactStore
from shared.kube.pods import pod_for_job
from tests import azurite as azurite_mod

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = {"initupload": ROOT / "images" / "initupload" / "main.py",
            "sidecar": ROOT / "images" / "sidecar" / "main.py"}


def blob_url(azurite) -> str:
    return f"http://127.0.0.1:{azurite.blob_port}/{azurite_mod.ACCOUNT}"


def container_sas(container: str, lifetime: timedelta) -> str:
    """A container SAS for Azurite (signed with its well-known dev key: a test stand-in for the
    user-delegation SAS the app signs with its identity)."""
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas
    return generate_container_sas(azurite_mod.ACCOUNT, container, account_key=azurite_mod.KEY,
                                  permission=ContainerSasPermissions(read=True, add=True, create=True,
                                                                     write=True, list=True),
                                  expiry=datetime.now(timezone.utc) + lifetime)


def sas_decorator(azurite) -> Decorator:
    return Decorator(StorageAccess(account_url=blob_url(azurite), mode="sas", sas_for=container_sas))


class PodRun:
    def __init__(self, azurite, job, tmp: Path, *, pod: dict | None = None):
        self.pod = pod or pod_for_job(job, decorate=sas_decorator(azurite))
        self.logs = tmp / "logs"
        (self.logs / "artifacts").mkdir(parents=True)
        self.containers = {c["name"]: c for c in self.pod["spec"]["initContainers"] + self.pod["spec"]["containers"]}
        env = {e["name"]: e["value"] for e in self.containers["sidecar"]["env"]}
        self.store = ArtifactStore.from_account(env["PROW_ARTIFACTS_ACCOUNT_URL"], env["PROW_ARTIFACTS_CONTAINER"],
                                                {"account_name": azurite_mod.ACCOUNT,
                                                 "account_key": azurite_mod.KEY})
        self.store.ensure_container()

    def env(self, name: str) -> dict[str, str]:
        env = {e["name"]: e["value"].replace('"/logs', f'"{self.logs}')
               for e in self.containers[name]["env"]}
        return {"PATH": os.environ.get("PATH", ""), "SIDECAR_POLL_SECONDS": "0.05", **env}

    def command(self, name: str) -> list[str]:
        return [sys.executable, str(PROGRAMS[name])]

    def run(self, name: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(name), env=self.env(name), capture_output=True, text=True,
                              timeout=timeout, cwd="/")

    def start(self, name: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(name), env=self.env(name), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, cwd="/")

    # -- what clonerefs and entrypoint leave in /logs -----------------------------------------

    def cloned(self, records: list[dict]) -> None:
        (self.logs / "clone.json").write_text(json.dumps(records))

    def test_ran(self, code: int, log: str = "", *, name: str = "") -> None:
        (self.logs / (f"{name}-log.txt" if name else "process-log.txt")).write_text(log)
        marker = self.logs / (f"{name}-marker.txt" if name else "marker-file.txt")
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(str(code))
        tmp.rename(marker)

    def artifact(self, relative: str, content: str) -> None:
        path = self.logs / "artifacts" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)


def terminate(process: subprocess.Popen, timeout: float = 60) -> subprocess.CompletedProcess:
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=timeout)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)
