"""A job set, its artifacts and the site in Azurite, served as the storage account's static website
serves `$web` (Azurite has no static website endpoint: see `StaticSite`)."""
from __future__ import annotations

import json
import random
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from shared.dashboard.index import DashboardIndex
from shared.dashboard.site import publish_site
from shared.jobs.model import ProwJob, format_time
from shared.storage import WEB_CONTAINER, StorageClients, StorageSettings

BUCKET = "prow-logs"
ORG = "metal3-io"
REPOS = ["baremetal-operator", "cluster-api-provider-metal3", "ironic-image", "project-infra"]
JOBS = {"presubmit": ["gomod", "unit", "e2e-test", "markdownlint", "shellcheck", "build"],
        "postsubmit": ["publish-images"], "periodic": ["periodic-e2e-main", "periodic-clean"]}
AUTHORS = ["alice", "bob", "carol", "dmitri", "erin"]
STATES = ["success"] * 14 + ["failure"] * 3 + ["pending", "triggered", "aborted", "error"]
NOW = datetime(2026, 8, 21, 12, 0, 0, tzinfo=timezone.utc)
DASHBOARD = "https://prow.example.test/view/"


def clients_for(connection_string: str) -> StorageClients:
    return StorageClients(StorageSettings(connection_string=connection_string))


def make_job(i: int, *, rng: random.Random, now: datetime = NOW, spread_hours: int = 48,
             state: str | None = None, job_type: str | None = None, job_name: str | None = None,
             repo: str | None = None, pr: int | None = None, author: str | None = None,
             sha: str | None = None) -> ProwJob:
    job_type = job_type or rng.choice(["presubmit"] * 8 + ["postsubmit", "periodic"])
    name = job_name or rng.choice(JOBS[job_type])
    repo = repo or rng.choice(REPOS)
    state = state or rng.choice(STATES)
    started = now - timedelta(seconds=rng.randrange(spread_hours * 3600))
    build_id = str(1826000000000000000 + i)
    spec: dict = {"type": job_type, "job": name, "agent": "kubernetes", "cluster": "default",
                  "report": True, "context": name}
    refs = {"org": ORG, "repo": repo, "base_ref": "main", "base_sha": f"{rng.getrandbits(160):040x}"}
    if job_type == "presubmit":
        number = pr or rng.randrange(1000, 1400)
        refs["pulls"] = [{"number": number, "author": author or rng.choice(AUTHORS),
                          "sha": sha or f"{rng.getrandbits(160):040x}", "title": f"Change number {number}"}]
        spec["rerun_command"] = f"/test {name}"
        run_dir = f"pr-logs/pull/{ORG}_{repo}/{number}/{name}/{build_id}"
    else:
        run_dir = f"logs/{name}/{build_id}"
    if job_type == "periodic":
        spec["extra_refs"] = [refs]
    else:
        spec["refs"] = refs
    status: dict = {"state": state, "startTime": format_time(started), "build_id": build_id,
                    "url": f"{DASHBOARD}s3/{BUCKET}/{run_dir}"}
    if state != "triggered":
        status["pendingTime"] = format_time(started + timedelta(seconds=5))
    if state in ("success", "failure", "aborted", "error"):
        status["completionTime"] = format_time(started + timedelta(seconds=rng.randrange(60, 3600)))
    status["description"] = {"success": "Job succeeded.", "failure": "Job failed.", "pending": "Job triggered.",
                             "triggered": "Job triggered.", "aborted": "Job aborted.", "error": "Job errored."}[state]
    return ProwJob(name=f"{i:08x}-0000-4000-8000-{i:012x}", namespace="prow", spec=spec, status=status,
                   created=f"{int(started.timestamp() * 1000):019d}")


def make_jobs(n: int, *, seed: int = 7, **kw) -> list[ProwJob]:
    rng = random.Random(seed)
    return [make_job(i, rng=rng, **kw) for i in range(n)]


def run_dir(job: ProwJob) -> str:
    return job.status["url"].split(f"/{BUCKET}/", 1)[1]


FAILING_LOG = "\n".join(
    [f"step {n}: compiling package pkg/{n}" for n in range(1, 60)] +
    ["--- FAIL: TestReconcileHost (0.42s)", "    controller_test.go:88: expected provisioned, got inspecting"] +
    [f"cleanup {n}" for n in range(1, 40)] + ["FAIL github.com/metal3-io/baremetal-operator/controllers 1.2s", ""])

JUNIT = """<?xml version="1.0" encoding="UTF-8"?>
<testsuite name="controllers" tests="3" failures="1">
  <testcase classname="controllers" name="TestReconcileHost"><failure message="expected provisioned">controller_test.go:88</failure></testcase>
  <testcase classname="controllers" name="TestDeleteHost"/>
  <testcase classname="controllers" name="TestSkipped"><skipped/></testcase>
</testsuite>"""


def upload_artifacts(clients: StorageClients, job: ProwJob, *, log: str | None = FAILING_LOG,
                     junit: bool = True) -> str:
    """Prow's run directory for `job` (started/finished/prowjob/podinfo, build log, junit)."""
    from azure.storage.blob import ContentSettings
    container = clients.blob().get_container_client(BUCKET)
    directory = run_dir(job)
    started = datetime.strptime(job.status["startTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    refs = job.primary_refs or {}
    pull = (refs.get("pulls") or [{}])[0]
    files = {
        "started.json": json.dumps({"timestamp": int(started.timestamp()), "pull": str(pull.get("number", "")),
                                    "repos": {f"{refs['org']}/{refs['repo']}": f"main:{refs['base_sha']},{pull.get('number')}:{pull.get('sha')}"}}),
        "prowjob.json": json.dumps(job.to_dict()),
        "podinfo.json": json.dumps({"pod": {"metadata": {"name": job.name}, "spec": {"nodeName": "worker-3"},
                                            "status": {"phase": "Failed", "containerStatuses": [
                                                {"name": "test", "state": {"terminated": {"reason": "Error", "exitCode": 1}}}]}},
                                    "events": [{"type": "Normal", "reason": "Scheduled", "message": "assigned to worker-3"}]}),
    }
    if job.complete:
        finished = datetime.strptime(job.status["completionTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        files["finished.json"] = json.dumps({"timestamp": int(finished.timestamp()), "passed": job.state == "success",
                                             "result": job.state.upper(), "revision": pull.get("sha", "")})
    if log is not None:
        files["build-log.txt"] = log
    if junit:
        files["artifacts/junit_controllers.xml"] = JUNIT
    for name, body in files.items():
        ctype = "application/json" if name.endswith(".json") else "text/plain" if name.endswith(".txt") else "application/xml"
        container.upload_blob(f"{directory}/{name}", body.encode(), overwrite=True,
                              content_settings=ContentSettings(content_type=ctype))
    return directory


def prepare_storage(clients: StorageClients, *, site_origin: str) -> None:
    """The artifact container readable (and listable) anonymously, CORS for the site's origin."""
    from azure.core.exceptions import ResourceExistsError
    from azure.storage.blob import CorsRule
    service = clients.blob()
    try:
        service.create_container(BUCKET, public_access="container")
    except ResourceExistsError:      # made by another test: make it readable and listable anonymously
        service.get_container_client(BUCKET).set_container_access_policy({}, public_access="container")
    service.set_service_properties(cors=[CorsRule([site_origin], ["GET", "HEAD"], allowed_headers=["*"],
                                                  exposed_headers=["ETag", "Content-Length"], max_age_in_seconds=3600)])


def publish(clients: StorageClients, jobs: list[ProwJob], *, batch: int = 25_000,
            container: str = WEB_CONTAINER) -> None:
    index = DashboardIndex(clients, container=container, now=lambda: NOW)
    for start in range(0, len(jobs), batch):
        index.publish_jobs(jobs[start:start + batch])


class StaticSite:
    """Serves `$web` as the static website does: `/` → index.html, a missing path → 404.html with 404."""

    def __init__(self, clients: StorageClients, container_name: str = WEB_CONTAINER):
        container = clients.blob().get_container_client(container_name)

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _blob(self, name):
                from azure.core.exceptions import ResourceNotFoundError
                try:
                    d = container.download_blob(name)
                    return d.readall(), d.properties.content_settings.content_type
                except ResourceNotFoundError:
                    return None, None

            def do_GET(self):
                path = urlsplit(self.path).path
                name = path.lstrip("/")
                if not name or name.endswith("/"):
                    name += "index.html"
                body, ctype = self._blob(name)
                status = 200
                if body is None:
                    body, ctype = self._blob("404.html")
                    status = 404
                self.send_response(status)
                self.send_header("Content-Type", ctype or "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):   # the browser moved on
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)


def publish_site_for(clients: StorageClients, blob_endpoint: str, **kw) -> None:
    publish_site(clients, artifacts_url=blob_endpoint, **kw)


def storage_account() -> str:
    from tests.azurite import ACCOUNT
    return ACCOUNT
