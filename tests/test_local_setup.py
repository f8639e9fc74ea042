"""`make run`'s pieces: storage initialisation on Azurite, and a clear exit when `func` is missing."""
import os
import subprocess
import sys
from pathlib import Path

from azure.data.tables import TableServiceClient
from azure.storage.blob import BlobServiceClient
from azure.storage.queue import QueueServiceClient

from shared.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent


def test_init_storage_creates_everything_and_is_idempotent(storage_env, capsys):
    assert cli(["init-storage"]) == 0
    assert cli(["init-storage"]) == 0
    assert "already initialised" in capsys.readouterr().out
    assert {"webhooks", "$web"} <= {c.name for c in BlobServiceClient.from_connection_string(storage_env).list_containers()}
    assert {"webhook-events", "prowjobs"} <= {q.name for q in QueueServiceClient.from_connection_string(storage_env).list_queues()}
    assert "prowjobs" in {t.name for t in TableServiceClient.from_connection_string(storage_env).list_tables()}


def test_init_storage_without_setting(monkeypatch, capsys):
    monkeypatch.delenv("PROW_STORAGE", raising=False)
    assert cli(["init-storage"]) == 2
    assert "PROW_STORAGE" in capsys.readouterr().err


def test_run_without_func_says_how_to_get_it(tmp_path):
    if (ROOT / "node_modules" / ".bin" / "func").exists():
        import pytest
        pytest.skip("Core Tools is installed on this machine")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "run_local.py")], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "azure-functions-core-tools@4" in proc.stderr and "func" in proc.stderr


def test_local_settings_example_has_every_app_setting():
    import json
    values = json.loads((ROOT / "local.settings.example.json").read_text())["Values"]
    for name in ("AzureWebJobsStorage", "PROW_STORAGE", "PROW_CONFIG_PATH", "PROW_JOB_CONFIG_PATH",
                 "PROW_PLUGIN_CONFIG_PATH", "PROW_HMAC_SECRET", "GITHUB_API_URL", "GITHUB_TOKEN",
                 "PROW_KUBECONFIG", "PROW_DASHBOARD_URL", "FUNCTIONS_WORKER_RUNTIME"):
        assert name in values
