"""The dashboard with 22,000 jobs: time to the Jobs page's first screen in headless Chromium, against
an empty page served the same way in the same run (both from Azurite through the static-website
stand-in, each in a fresh browser context so nothing is cached).

    python -m bench --only dashboard
"""
from __future__ import annotations

import time

from bench.common import summary

EMPTY = b"<!doctype html><html><head><title>empty</title></head><body></body></html>"


def first_screen(connection_string: str, blob_port: int, *, jobs: int = 22_000, runs: int = 10) -> dict:
    from playwright.sync_api import sync_playwright

    from shared.dashboard.index import MANIFEST, DashboardIndex
    from shared.storage import WEB_CONTAINER
    from tests.azurite import ACCOUNT
    from tests.dashboard import harness

    clients = harness.clients_for(connection_string)
    site = harness.StaticSite(clients)
    try:
        harness.prepare_storage(clients, site_origin=site.url)
        data = harness.make_jobs(jobs)
        started = time.perf_counter()
        harness.publish(clients, data)
        publish_seconds = time.perf_counter() - started
        harness.publish_site_for(clients, f"http://127.0.0.1:{blob_port}/{ACCOUNT}")
        web = clients.blob().get_container_client(WEB_CONTAINER)
        from azure.storage.blob import ContentSettings
        web.upload_blob("bench-empty.html", EMPTY, overwrite=True,
                        content_settings=ContentSettings(content_type="text/html; charset=utf-8"))
        manifest, _ = DashboardIndex(clients).read(MANIFEST)
        shard_sizes = [len(web.download_blob(f"data/jobs/{h}.json").readall()) for h in sorted(manifest["hours"])[-3:]]
        dashboard, empty, ratios, in_page = [], [], [], []
        with sync_playwright() as p:
            browser = harness.launch_chromium(p)
            try:
                def load(path: str, selector: str | None) -> float:
                    context = browser.new_context(viewport={"width": 1280, "height": 900})
                    page = context.new_page()
                    t0 = time.perf_counter()
                    page.goto(site.url + path, wait_until="load")
                    if selector:
                        page.wait_for_selector(selector, state="attached", timeout=30_000)
                    elapsed = time.perf_counter() - t0
                    if selector:
                        in_page.append(int(page.evaluate("document.body.dataset.readyAt")) / 1000)
                    context.close()
                    return elapsed
                load("/bench-empty.html", None)          # warm the browser process once
                for _ in range(runs):
                    d = load("/", "body[data-ready='jobs']")
                    e = load("/bench-empty.html", None)
                    dashboard.append(d)
                    empty.append(e)
                    ratios.append(d / e)
            finally:
                browser.close()
    finally:
        site.stop()
    return {"jobs": jobs, "hours": len(manifest["hours"]), "publish_seconds": publish_seconds,
            "newest_shard_bytes": shard_sizes, "first_screen": summary(dashboard),
            "first_screen_in_page": summary(in_page), "empty_page": summary(empty), "ratio": summary(ratios)}
