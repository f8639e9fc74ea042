from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


_FUNCTIONS: dict = {}


def app_functions() -> dict:
    """function_app's registered functions by name (get_functions() may run only once per app)."""
    if not _FUNCTIONS:
        import function_app
        _FUNCTIONS.update({f.get_function_name(): f for f in function_app.app.get_functions()})
    return _FUNCTIONS


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary(values: list[float]) -> dict:
    return {"n": len(values), "median": statistics.median(values), "p99": percentile(values, 99),
            "min": min(values), "max": max(values)}


def run_python(code: str, *, env: dict | None = None, cpu: int | None = None) -> tuple[float, str]:
    """Wall seconds of a fresh `python -c code` (cwd = project root) and its stdout."""
    cmd = [PY, "-c", code]
    if cpu is not None:
        cmd = ["taskset", "-c", str(cpu)] + cmd
    started = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"benchmark process failed: {out.stderr[-2000:]}")
    return elapsed, out.stdout


def alternate(a, b, runs: int) -> tuple[list[float], list[float], list[float]]:
    """Run a and b in turn (a b a b …) so drift hits both; returns a times, b times, a/b per pair."""
    ta, tb, ratios = [], [], []
    for _ in range(runs):
        x = a()
        y = b()
        ta.append(x)
        tb.append(y)
        ratios.append(x / y)
    return ta, tb, ratios
