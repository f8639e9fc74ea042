"""The real Python worker's loader indexes function_app.py; bindings are what the contracts say."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INDEXER = ROOT / "tests" / "index_app.py"


def index(app_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(INDEXER), str(app_dir)], capture_output=True, text=True,
                          timeout=120)


def test_worker_indexes_the_app_with_the_contracted_bindings():
    result = index(ROOT)
    assert result.returncode == 0, result.stderr
    functions = {f["name"]: f for f in json.loads(result.stdout)}
    hook = functions["hook"]
    trigger = [b for b in hook["bindings"] if b["direction"] == "IN"]
    assert trigger == [{"direction": "IN", "type": "httpTrigger", "name": "req",
                        "authLevel": "ANONYMOUS", "route": "hook"}]  # no methods: every method reaches Prow's 405
    assert [b["type"] for b in hook["bindings"] if b["direction"] == "OUT"] == ["http"]


def test_launch_is_indexed_on_the_prowjobs_queue():
    result = index(ROOT)
    assert result.returncode == 0, result.stderr
    launch = {f["name"]: f for f in json.loads(result.stdout)}["launch"]
    assert launch["bindings"] == [{"direction": "IN", "type": "queueTrigger", "name": "msg",
                                   "queueName": "prowjobs", "connection": "PROW_STORAGE"}]


def test_tide_is_indexed_as_a_timer_every_minute():
    result = index(ROOT)
    assert result.returncode == 0, result.stderr
    tide = {f["name"]: f for f in json.loads(result.stdout)}["tide"]
    assert tide["bindings"] == [{"direction": "IN", "type": "timerTrigger", "name": "timer",
                                 "schedule": "0 * * * * *", "useMonitor": True}]


def test_reconcile_is_indexed_as_a_timer_every_30_seconds():
    result = index(ROOT)
    assert result.returncode == 0, result.stderr
    reconcile = {f["name"]: f for f in json.loads(result.stdout)}["reconcile"]
    [trigger] = reconcile["bindings"]
    assert trigger["type"] == "timerTrigger" and trigger["name"] == "timer"
    assert trigger["schedule"] == "*/30 * * * * *" and trigger["useMonitor"] is True
    assert not trigger.get("runOnStartup")


def test_horologium_sinker_and_status_reconciler_are_indexed_as_timers_every_minute():
    result = index(ROOT)
    assert result.returncode == 0, result.stderr
    functions = {f["name"]: f for f in json.loads(result.stdout)}
    assert functions["horologium"]["bindings"] == [{"direction": "IN", "type": "timerTrigger", "name": "timer",
                                                    "schedule": "0 * * * * *", "useMonitor": True}]
    assert functions["sinker"]["bindings"] == [{"direction": "IN", "type": "timerTrigger", "name": "timer",
                                                "schedule": "30 * * * * *", "useMonitor": True}]
    assert functions["status_reconciler"]["bindings"] == [{"direction": "IN", "type": "timerTrigger",
                                                           "name": "timer", "schedule": "15 * * * * *",
                                                           "useMonitor": True}]


def test_indexing_catches_a_signature_mistake(tmp_path):
    """The check can fail: a parameter that is not a binding is a load error on Azure and here."""
    shutil.copytree(ROOT / "functions", tmp_path / "functions")
    shutil.copytree(ROOT / "shared", tmp_path / "shared")
    (tmp_path / "function_app.py").write_text((ROOT / "function_app.py").read_text())
    http = tmp_path / "functions" / "http.py"
    http.write_text(http.read_text().replace("def hook(req: func.HttpRequest)", "def hook(request: func.HttpRequest)"))
    result = index(tmp_path)
    assert result.returncode == 1
    assert "req" in result.stderr or "request" in result.stderr


def test_function_app_registers_blueprints_only():
    source = (ROOT / "function_app.py").read_text()
    assert "def " not in source and "@app." not in source
