"""`make bench`: the figures of the foundation and dispatch issues, each against a baseline measured in the same run.

    python -m bench [--runs N] [--only import,request,first,config,help,dispatch,plugins,e2e,tide,trigger,reconcile,horologium]

Prints a table and writes bench/results/latest.json.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time

from bench.common import ROOT


def fmt_ms(s: float) -> str:
    return f"{s * 1000:.1f} ms"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench")
    p.add_argument("--runs", type=int, default=15, help="runs of each process-level figure")
    p.add_argument("--requests", type=int, default=1000, help="requests for the per-request figure")
    p.add_argument("--events", type=int, default=300, help="deliveries for the dispatch throughput figure")
    p.add_argument("--only", default="import,request,first,config,help,dispatch,plugins,e2e,tide,trigger,reconcile,dashboard,horologium")
    args = p.parse_args(argv)
    only = set(args.only.split(","))
    results: dict = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                     "python": platform.python_version(), "machine": platform.machine()}
    lines = []

    from bench import config as config_bench, dispatch as dispatch_bench, hook as hook_bench

    if "import" in only:
        r = hook_bench.cold_import(args.runs)
        results["cold_import"] = r
        lines.append(f"cold import  function_app {fmt_ms(r['function_app']['median'])} vs azure.functions "
                     f"{fmt_ms(r['azure.functions']['median'])}: ratio {r['ratio']['median']:.2f}x (target < 1.5x)")

    azurite = None
    if only & {"request", "first", "help", "dispatch", "plugins", "e2e"}:
        from tests import azurite as azurite_mod
        azurite = azurite_mod.start()
    try:
        if "request" in only:
            r = hook_bench.per_request(azurite.connection_string, args.requests)
            results["hook_request"] = r
            lines.append(f"hook request ({r['payload_bytes']} B) median {fmt_ms(r['hook']['median'])} "
                         f"p99 {fmt_ms(r['hook']['p99'])}; floor (blob write + queue send) median "
                         f"{fmt_ms(r['floor']['median'])} p99 {fmt_ms(r['floor']['p99'])}: ratio median "
                         f"{r['ratio_median']:.2f}x, p99 {r['ratio_p99']:.2f}x (target < 1.2x)")
        if "first" in only:
            with tempfile.TemporaryDirectory() as tmp:
                r = hook_bench.first_delivery(azurite.connection_string, args.runs, tmp)
            results["first_delivery"] = r
            lines.append(f"first delivery in a fresh process {fmt_ms(r['hook']['median'])} vs SDK-only "
                         f"{fmt_ms(r['floor']['median'])}: ratio {r['ratio']['median']:.2f}x (target < 1.3x)")
        if "help" in only:
            r = dispatch_bench.help_requests(azurite.connection_string)
            results["help_requests"] = r
            for case in ("cold", "warm"):
                c = r[case]
                lines.append(f"/help on an issue, {case} ETag cache: {c['total']} GitHub requests, "
                             f"{c['rate_limited']} counted against the rate limit, {c['revalidations_304']} 304s "
                             f"({'; '.join(c['requests'])}) (Prow: 3, no cache)")
        if "dispatch" in only:
            r = dispatch_bench.throughput(azurite.connection_string, args.events)
            results["dispatch_throughput"] = r
            lines.append(f"dispatch of comments without a command: {r['events_per_second']:.0f} events/s serially "
                         f"(median {fmt_ms(r['dispatch']['median'])}, p99 {fmt_ms(r['dispatch']['p99'])}), "
                         f"{r['github_requests']} GitHub requests; floor (blob read + dedupe insert + update) "
                         f"{r['floor_events_per_second']:.0f} events/s: ratio {r['ratio_median']:.2f}x")
        if "e2e" in only:
            from bench import e2e as e2e_bench
            r = e2e_bench.webhook_to_pod(azurite.connection_string, max(5, args.runs))
            results["webhook_to_pod"] = r
            lines += e2e_bench.lines(r)
        if "plugins" in only:
            from bench import plugins as plugins_bench
            r = {}
            for figure in (plugins_bench.simple_commands, plugins_bench.approve, plugins_bench.metal3_pr_opened):
                r.update(figure(azurite.connection_string))
            results["plugin_requests"] = r
            lines += plugins_bench.lines(r)
    finally:
        if azurite is not None:
            azurite.stop()

    if "tide" in only:
        from bench import tide as tide_bench
        r = tide_bench.run()
        results["tide_requests"] = r
        lines += tide_bench.lines(r)

    if "reconcile" in only:
        from bench import reconcile as reconcile_bench
        r = reconcile_bench.run()
        results["reconcile"] = r
        lines += reconcile_bench.lines(r)

    if "horologium" in only:
        from bench import horologium as horologium_bench
        r = horologium_bench.run()
        results["horologium"] = r
        lines.append(horologium_bench.line(r))

    if "trigger" in only:
        from bench import trigger as trigger_bench
        r = trigger_bench.run()
        results["trigger"] = r
        lines += trigger_bench.lines(r)

    if "artifacts" in only:      # opt-in (--only artifacts): 0.8 GB and 20,000 blobs into fresh Azurites
        from bench import artifacts as artifacts_bench
        r = artifacts_bench.run()
        results["artifacts"] = r
        lines += artifacts_bench.lines(r)

    if "dashboard" in only:
        from bench import dashboard as dashboard_bench
        from tests import azurite as azurite_mod
        web_storage = azurite_mod.start()
        try:
            r = dashboard_bench.first_screen(web_storage.connection_string, web_storage.blob_port,
                                             runs=max(3, args.runs // 2))
        finally:
            web_storage.stop()
        results["dashboard_first_screen"] = r
        lines.append(f"dashboard Jobs page with {r['jobs']} jobs ({r['hours']} hour shards): first screen "
                     f"{fmt_ms(r['first_screen']['median'])} (in-page {fmt_ms(r['first_screen_in_page']['median'])}) "
                     f"vs an empty page {fmt_ms(r['empty_page']['median'])}: ratio {r['ratio']['median']:.2f}x "
                     f"(target < 1 s); publishing the indexes took {r['publish_seconds']:.1f} s")
    if "config" in only:
        r = config_bench.corpus_load(max(3, args.runs // 3))
        results["config_load"] = r
        lines.append(f"kubernetes corpus load+validate on one core {r['seconds']['median']:.2f} s "
                     f"(max {r['seconds']['max']:.2f} s), peak {r['peak_mib']:.0f} MiB (targets < 3 s, < 300 MiB); "
                     f"YAML parse alone {r['yaml_parse_only_seconds']['median']:.2f} s: ratio "
                     f"{r['ratio_to_parse_only']['median']:.2f}x; counts {r['counts']}")

    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "latest.json").write_text(json.dumps(results, indent=2))
    print("\n".join(lines))
    print(f"(details: {out_dir / 'latest.json'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
