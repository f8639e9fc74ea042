"""Loading and validating the whole kubernetes corpus, on one core: seconds and peak memory.

Baseline in the same run: parsing the same files with PyYAML's libyaml loader and nothing else.
"""
from __future__ import annotations

import json

from bench.common import ROOT, alternate, run_python, summary

CORPUS = ROOT.parent / "shared" / "corpus" / "prow-configs" / "kubernetes"

PEAK = """
def peak_mib():
    # VmHWM is this program's own high-water mark; ru_maxrss would also carry the forking parent's size
    # across exec (the benchmark process is large by the time this runs).
    try:
        for line in open('/proc/self/status'):
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

LOAD = f"""
import json, resource, time
{PEAK}
t0 = time.perf_counter()
from shared.config.loader import load_config
cfg = load_config({str(CORPUS / 'config.yaml')!r}, {str(CORPUS / 'jobs')!r}, {str(CORPUS / 'plugins.yaml')!r})
elapsed = time.perf_counter() - t0
print(json.dumps({{"seconds": elapsed, "peak_mib": peak_mib(),
                  "errors": len(cfg.errors), "presubmits": sum(len(v) for v in cfg.jobs.presubmits.values()),
                  "postsubmits": sum(len(v) for v in cfg.jobs.postsubmits.values()),
                  "periodics": len(cfg.jobs.periodics)}}))
"""

PARSE_ONLY = f"""
import json, resource, time, pathlib
{PEAK}
t0 = time.perf_counter()
import yaml
for p in sorted(pathlib.Path({str(CORPUS)!r}).rglob('*.yaml')):
    yaml.load(p.read_bytes(), Loader=yaml.CSafeLoader)
print(json.dumps({{"seconds": time.perf_counter() - t0,
                  "peak_mib": peak_mib()}}))
"""


def corpus_load(runs: int, cpu: int = 0) -> dict:
    results = {"load": [], "parse": []}

    def load():
        out = json.loads(run_python(LOAD, cpu=cpu)[1])
        results["load"].append(out)
        return out["seconds"]

    def parse():
        out = json.loads(run_python(PARSE_ONLY, cpu=cpu)[1])
        results["parse"].append(out)
        return out["seconds"]

    load(), parse()
    results = {"load": [], "parse": []}
    ta, tb, ratios = alternate(load, parse, runs)
    last = results["load"][-1]
    return {"seconds": summary(ta), "peak_mib": max(r["peak_mib"] for r in results["load"]),
            "yaml_parse_only_seconds": summary(tb),
            "yaml_parse_only_peak_mib": max(r["peak_mib"] for r in results["parse"]),
            "ratio_to_parse_only": summary(ratios),
            "counts": {k: last[k] for k in ("presubmits", "postsubmits", "periodics", "errors")}}
