"""The dashboard in real headless Chromium (Debian's package, driven by Playwright), against the
site and data in Azurite. Each page shows the data of a job set made here; screenshots of every
page go to tests/screenshots/ for people to look at."""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from tests.dashboard import harness

playwright_api = pytest.importorskip("playwright.sync_api")

SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"

TIDE = {"Updated": "2026-08-21T11:59:00Z", "Queries": ["is:pr state:open repo:metal3-io/baremetal-operator label:lgtm label:approved -label:do-not-merge/hold"],
        "Pools": [{"Org": "metal3-io", "Repo": "baremetal-operator", "Branch": "main", "Action": "MERGE",
                   "SuccessPRs": [{"Number": 1201, "Title": "Add firmware settings", "HeadRefOID": "a" * 40}],
                   "PendingPRs": [{"Number": 1202, "Title": "Bump golang", "HeadRefOID": "b" * 40}],
                   "MissingPRs": [{"Number": 1203, "Title": "Refactor inspection", "HeadRefOID": "c" * 40,
                                   "Mergeable": "CONFLICTING"}],
                   "Target": [{"Number": 1201, "Title": "Add firmware settings"}], "BatchPending": [], "Blockers": []}]}
TIDE_HISTORY = {"History": {"metal3-io/baremetal-operator:main": [
    {"time": "2026-08-21T11:50:00Z", "action": "MERGE", "baseSHA": "d" * 40,
     "target": [{"number": 1199, "author": "alice", "sha": "e" * 40, "title": "Fix typo"}]},
    {"time": "2026-08-21T11:20:00Z", "action": "TRIGGER", "baseSHA": "d" * 40,
     "target": [{"number": 1198, "author": "bob", "sha": "f" * 40, "title": "Retry BMC"}]}]}}
PLUGIN_HELP = {"AllRepos": ["metal3-io/baremetal-operator"],
               "RepoPlugins": {"": ["lgtm", "hold"], "metal3-io": ["lgtm", "hold"]},
               "RepoExternalPlugins": {"": []},
               "PluginHelp": {
                   "lgtm": {"Description": "Adds or removes the lgtm label.", "Commands": [
                       {"Usage": "/[remove-]lgtm [cancel]", "Featured": True, "Description": "Adds or removes the 'lgtm' label.",
                        "Examples": ["/lgtm", "/lgtm cancel"], "WhoCanUse": "Collaborators on the repository."}]},
                   "hold": {"Description": "Holds a PR.", "Commands": [
                       {"Usage": "/[remove-]hold [cancel]", "Description": "Adds or removes the `do-not-merge/hold` label.",
                        "Examples": ["/hold"], "WhoCanUse": "Anyone can use the /hold command."}]}},
               "ExternalPluginHelp": {}}


@pytest.fixture(scope="module")
def site(azurite):
    clients = harness.clients_for(azurite.connection_string)
    web_name = f"web{random.getrandbits(48):012x}"     # this module's own "$web": other tests write $web
    server = harness.StaticSite(clients, web_name)
    harness.prepare_storage(clients, site_origin=server.url)
    rng = random.Random(3)
    jobs = harness.make_jobs(300)
    failing = harness.make_job(10_000, rng=rng, state="failure", job_type="presubmit", job_name="unit",
                               repo="baremetal-operator", pr=1234, author="alice", sha="1" * 40)
    pr_runs = [harness.make_job(10_001 + k, rng=rng, state=state, job_type="presubmit", job_name=name,
                                repo="baremetal-operator", pr=1234, author="alice", sha=sha)
               for k, (state, name, sha) in enumerate([("success", "gomod", "1" * 40), ("success", "unit", "2" * 40),
                                                       ("pending", "gomod", "2" * 40)])]
    all_jobs = jobs + [failing] + pr_runs
    harness.publish(clients, all_jobs, container=web_name)
    harness.upload_artifacts(clients, failing)
    harness.upload_artifacts(clients, pr_runs[2], log=None, junit=False)   # running: no finished.json
    blob = clients.blob()
    harness.publish_site_for(clients, f"http://127.0.0.1:{azurite.blob_port}/{harness.storage_account()}",
                             plugin_help=PLUGIN_HELP, container=web_name)
    web = blob.get_container_client(web_name)
    web.upload_blob("data/tide.json", json.dumps(TIDE), overwrite=True)
    web.upload_blob("data/tide-history.json", json.dumps(TIDE_HISTORY), overwrite=True)
    yield {"url": server.url, "jobs": all_jobs, "failing": failing, "pr_runs": pr_runs}
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = harness.launch_chromium(p)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def open_page(page, url: str, ready: str):
    page.goto(url)
    page.wait_for_selector(f"body[data-ready='{ready}']", state="attached", timeout=15_000)


def shot(page, name: str, *, full_page: bool = True) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def test_jobs_page_lists_the_jobs_with_counts_per_state_and_filters(site, page):
    open_page(page, site["url"] + "/", "jobs")
    page.wait_for_selector("body[data-loaded='all']", state="attached", timeout=15_000)
    page.wait_for_function("document.querySelectorAll('#state-counts .count').length > 0")
    page.wait_for_timeout(300)
    expected = {}
    for job in site["jobs"]:
        expected[job.state] = expected.get(job.state, 0) + 1
    shown = {el.get_attribute("data-state"): int(el.inner_text().split()[-1])
             for el in page.query_selector_all("#state-counts .count")}
    assert shown == expected
    assert page.locator("tbody tr").count() == len(site["jobs"])
    shot(page, "jobs", full_page=False)

    failing = site["failing"]
    link = page.locator(f"tr[data-id='{failing.name}'] td.job a").first
    assert link.get_attribute("href") == "/view/s3/prow-logs/" + harness.run_dir(failing)
    pr_link = page.locator(f"tr[data-id='{failing.name}'] a[href$='/pull/1234']")
    assert pr_link.count() == 1

    page.select_option("select[name=state]", "failure")
    page.wait_for_timeout(200)
    states = {el.inner_text() for el in page.query_selector_all("tbody tr td:first-child .state")}
    assert states == {"failure"}
    assert "state=failure" in page.url


def test_jobs_page_filters_from_the_address_by_author_and_pr(site, page):
    open_page(page, site["url"] + "/?author=alice&pr=1234", "jobs")
    page.wait_for_selector("body[data-loaded='all']", state="attached", timeout=15_000)
    page.wait_for_timeout(300)
    ids = {el.get_attribute("data-id") for el in page.query_selector_all("tbody tr")}
    wanted = {j.name for j in site["jobs"]
              if any(p["number"] == 1234 and p["author"] == "alice" for p in (j.refs or {}).get("pulls", []))}
    assert ids == wanted and site["failing"].name in ids


def test_job_run_page_highlights_the_failure_and_shows_junit_artifacts_and_pod(site, page):
    failing = site["failing"]
    open_page(page, site["url"] + "/view/s3/prow-logs/" + harness.run_dir(failing), "view")
    meta = page.inner_text("#metadata")
    assert "FAILURE" in meta.upper() and "unit" in meta and "#1234" in meta
    highlighted = page.locator("#build-log .line.highlighted")
    assert highlighted.count() == 2
    assert "--- FAIL: TestReconcileHost" in highlighted.first.inner_text()
    assert page.locator("#build-log mark").first.inner_text() == "FAIL"
    hidden = page.locator("#build-log button.skip").first
    assert "hidden lines" in hidden.inner_text()
    assert page.locator("#build-log .line").count() < 60
    assert "1 passed, 1 failed, 1 skipped" in page.inner_text("#junit")
    assert "TestReconcileHost" in page.inner_text("#junit")
    artifacts = page.inner_text("#artifacts")
    assert "artifacts/junit_controllers.xml" in artifacts and "build-log.txt" in artifacts
    assert "worker-3" in page.inner_text("#podinfo")
    assert "static site" in page.inner_text("#static-notice")
    shot(page, "job-run")
    hidden.click()
    assert page.locator("#build-log .line").count() > 60


def test_a_running_job_says_its_log_comes_when_it_finishes(site, page):
    running = site["pr_runs"][2]
    open_page(page, site["url"] + "/view/s3/prow-logs/" + harness.run_dir(running), "view")
    assert "PENDING" in page.inner_text("#metadata").upper()
    assert "still running" in page.inner_text("#static-notice")
    assert "No build log yet." in page.inner_text("main")


def test_job_history_lists_runs_newest_first_with_charts(site, page):
    open_page(page, site["url"] + "/job-history/s3/prow-logs/pr-logs/directory/unit", "job-history")
    runs = sorted((j for j in site["jobs"] if j.job == "unit"), key=lambda j: int(j.build_id), reverse=True)
    builds = [el.inner_text() for el in page.query_selector_all("#runs tbody tr td:nth-child(2)")]
    assert builds == [j.build_id for j in runs[:20]]
    finished = [j for j in runs if j.state in ("success", "failure", "error")][:100]
    rate = round(100 * sum(j.state == "success" for j in finished) / len(finished))
    assert f"Pass rate {rate}%" in page.inner_text("#pass-rate")
    assert page.locator("#duration-chart rect").count() == min(100, len(runs))
    assert page.locator("#pass-chart polyline").count() == 1
    shot(page, "job-history")


def test_pr_history_groups_runs_by_head_commit(site, page):
    open_page(page, site["url"] + "/pr-history?org=metal3-io&repo=baremetal-operator&pr=1234", "pr-history")
    groups = page.locator("section.commit")
    shas = [groups.nth(i).get_attribute("data-sha") for i in range(groups.count())]
    assert set(shas) >= {"1" * 40, "2" * 40}
    newer = page.locator(f"section.commit[data-sha='{'2' * 40}'] tr")
    assert newer.count() == sum(1 for j in site["jobs"] if (j.refs or {}).get("pulls", [{}])[0].get("sha") == "2" * 40)
    shot(page, "pr-history")


def test_tide_page_says_what_each_pr_waits_for(site, page):
    open_page(page, site["url"] + "/tide", "tide")
    pool = page.inner_text("section.pool")
    assert "Merging" in pool
    assert "#1202" in pool and "waiting for required jobs to finish" in pool
    assert "#1203" in pool and "retest needed" in pool
    assert "target of the current action" in pool
    assert "has a merge conflict" in pool
    assert "2026-08-21 11:59:00 UTC" in page.inner_text("#tide-updated")
    shot(page, "tide")
    open_page(page, site["url"] + "/tide-history", "tide-history")
    rows = page.locator("#tide-history tbody tr")
    assert rows.count() == 2 and "MERGE" in rows.first.inner_text() and "#1199" in rows.first.inner_text()
    shot(page, "tide-history")


def test_command_help_lists_the_commands_of_a_repo(site, page):
    open_page(page, site["url"] + "/command-help?repo=metal3-io/baremetal-operator", "command-help")
    text = page.inner_text("#commands")
    assert "/[remove-]lgtm [cancel]" in text and "/[remove-]hold [cancel]" in text
    page.fill("input[name=filter]", "hold")
    assert "lgtm" not in page.inner_text("#commands")
    shot(page, "command-help")


def test_deck_paths_a_static_site_cannot_serve_say_so(site, page):
    open_page(page, site["url"] + "/pr?query=is:pr+author:alice+repo:metal3-io/baremetal-operator", "pr")
    assert "GitHub login" in page.inner_text("#static-notice")
    assert page.locator("a[href='/?author=alice&repo=metal3-io%2Fbaremetal-operator']").count() == 1
    open_page(page, site["url"] + "/rerun?prowjob=x", "rerun")
    assert "Prow's server" in page.inner_text("#static-notice")


def test_jobs_page_fits_a_phone(site, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    open_page(page, site["url"] + "/", "jobs")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    shot(page, "jobs-phone", full_page=False)
    context.close()
