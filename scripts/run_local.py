"""`make run`: Azurite (persisting under .azurite/), the app's storage, local.settings.json, `func start`."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import azurite  # noqa: E402  (the same launcher the tests use)

PORTS = (10000, 10001, 10002)
HOW_TO_GET_FUNC = """\
Azure Functions Core Tools (`func`) is not installed, so the app cannot be started.
`make test` tried to install it from npm (package.json, optionalDependencies), but its installer
downloads the Functions host from cdn.functions.azure.com, which this machine cannot reach.
Install it on a machine with internet access, then run `make run` again:
  - npm:    npm install --global azure-functions-core-tools@4 --unsafe-perm true
  - Debian/Ubuntu: https://learn.microsoft.com/azure/azure-functions/functions-run-local#install-the-azure-functions-core-tools
    (apt-get install azure-functions-core-tools-4 from Microsoft's package repository)
  - macOS:  brew tap azure/functions && brew install azure-functions-core-tools@4
Without `func`, the tests (`make test`) still exercise every function through the real worker's
indexer and a host stand-in."""


def find_func() -> str | None:
    local = ROOT / "node_modules" / ".bin" / "func"
    if local.exists():
        return str(local)
    return shutil.which("func")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    func = find_func()
    if func is None:
        print(HOW_TO_GET_FUNC, file=sys.stderr)
        return 1

    settings = ROOT / "local.settings.json"
    if not settings.exists():
        shutil.copyfile(ROOT / "local.settings.example.json", settings)
        print("wrote local.settings.json from local.settings.example.json (edit it for your GitHub token)")

    started = None
    if all(port_open(p) for p in PORTS):
        print("Azurite already listening on 10000-10002; using it")
    else:
        started = azurite.start(location=ROOT / ".azurite", ports=PORTS)
        print(f"Azurite started (data in .azurite/), pid {started.process.pid}")
    conn = azurite.connection_string(*PORTS)
    from shared.cli.init_storage import main as init_storage
    if init_storage(["--connection-string", conn]) != 0:
        return 1

    env = dict(os.environ)
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.Popen([func, "start", "--python"], cwd=ROOT, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        return proc.wait()
    finally:
        if started is not None:
            started.stop()


if __name__ == "__main__":
    sys.exit(main())
