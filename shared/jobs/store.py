"""The job store: ProwJob records in Table `prowjobs`, with indexes that answer every read by key.

Key design (one table, entity kinds told apart by PartitionKey; `<created>` is the job's creation
snowflake, 19 digits; `<newest>` is `2^63-1 - <created>`, 19 digits, so ascending RowKeys list the
newest first; names are percent-escaped where Table keys forbid `/ \\ # ?`):

    PartitionKey               RowKey                 holds
    job|<id>                   job                    the record: Doc (Prow's JSON, split over Doc,
                                                      Doc1.. when long), State, Job, Type, Created,
                                                      Complete. The only entity that is ever updated,
                                                      always ETag-conditionally: the source of truth.
    active                     <created>|<id>         a pointer per unfinished job (Id, Job, Type)
    history|<job name>         <newest>|<id>          a pointer per run of one job (Id, Type)
    pr|<org>/<repo>|<number>   <newest>|<id>          a pointer per job of one PR (Id, Job, Type)
    build|<job name>           <build id>             a drawn build id (Id): makes build ids unique
    finished                   <created>|<id>         a pointer per finished job (Id, Job, Type, Repo,
                                                      Pulls, Build): what sinker ages out
    periodics                  <job name>             the newest run of each periodic (Id, Created,
                                                      Start): what horologium decides from
    limits                     global | job|<name> | queue|<name>
                                                      jobs holding a concurrency slot (Holders)
    unreported                 <created>|<id>         a pointer per complete job whose final state
                                                      the reconciler has not yet handed to its
                                                      reporters (written by `save` before the
                                                      record completes; removed by `mark_reported`)
    reportlock                 <org>/<repo>#<n>       a reconcile tick's lease on reporting one PR's
                                                      jobs: Owner, Expires (shared/jobs/reportlock.py)

Queries (none scans; each is one partition, then point reads of the records):

    one job                    PartitionKey eq 'job|<id>' and RowKey eq 'job'       (point read)
    jobs not yet finished      PartitionKey eq 'active', oldest first               (`unfinished()`)
    history of one job         PartitionKey eq 'history|<name>', newest first, top N (`history()`)
    jobs of one PR             PartitionKey eq 'pr|<org>/<repo>|<n>', newest first  (`for_pull()`)
    complete, not yet reported PartitionKey eq 'unreported', oldest first           (`unreported()`)
    finished before a time     PartitionKey eq 'finished' and RowKey lt '<created>', oldest first
                                                                          (`finished_before()`)
    newest run of every periodic  PartitionKey eq 'periodics'             (`latest_periodics()`)

Writes: `create` writes the pointers first, then inserts the record (insert-if-absent), so every
record that exists is indexed; a pointer whose record does not exist (a crash between the writes)
is skipped by readers. The `active` pointer is deleted after the record is saved complete; a
pointer left behind by a crash there is skipped and removed by the next `unfinished()`. Pointers
never carry state, so nothing but the record needs a conditional write. Saving a job complete also
writes its `finished` pointer (again on every later save: an idempotent upsert), and `remove()`
deletes a finished job from that pointer alone: the other pointers, the build id, the record, and
the `finished` pointer last, so a removal cut short is finished by the next one.

State changes: `save(job)` replaces the record only if it is unchanged since `job` was read (ETag,
If-Match). Of two functions that read the same version and both save, one wins and the other gets
`JobConflict`; `modify(id, change)` re-reads and re-applies `change` on a conflict.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import quote, unquote

from shared.storage import PROWJOBS_TABLE, StorageClients

from .buildid import new_build_id
from .model import ProwJob

log = logging.getLogger("prow.jobs")

RECORD_ROW = "job"
ACTIVE = "active"
UNREPORTED = "unreported"
FINISHED = "finished"
PERIODICS = "periodics"
LIMITS = "limits"
_MAX_CHUNK = 30_000          # a Table string property holds 32K UTF-16 characters
_MAX_INT64 = (1 << 63) - 1


class JobNotFound(KeyError):
    pass


class JobConflict(Exception):
    """The record changed since it was read (another function saved it first)."""


class JobExists(Exception):
    pass


def key(text: str) -> str:
    """A Table key part: `/ \\ # ?`, `%`, `|` and control characters percent-escaped."""
    return quote(text, safe=" !$&'()*+,-.:;=@[]^_`{}~<>\"")


def record_key(job_id: str) -> str:
    return f"job|{key(job_id)}"


def history_key(job_name: str) -> str:
    return f"history|{key(job_name)}"


def pull_key(repo: str, number: int | str) -> str:
    return f"pr|{key(repo)}|{number}"


def build_key(job_name: str) -> str:
    return f"build|{key(job_name)}"


def newest_first(created: str, job_id: str) -> str:
    return f"{_MAX_INT64 - int(created):019d}|{key(job_id)}"


def oldest_first(created: str, job_id: str) -> str:
    return f"{int(created):019d}|{key(job_id)}"


def split_text(prefix: str, text: str) -> dict[str, str]:
    """`text` over properties `prefix`, `prefix1`, ... (each within a Table string's limit)."""
    chunks = [text[i:i + _MAX_CHUNK] for i in range(0, len(text), _MAX_CHUNK)] or [""]
    return {(prefix if i == 0 else f"{prefix}{i}"): chunk for i, chunk in enumerate(chunks)}


def join_text(prefix: str, entity: Any) -> str:
    parts, i = [entity.get(prefix, "")], 1
    while f"{prefix}{i}" in entity:
        parts.append(entity[f"{prefix}{i}"])
        i += 1
    return "".join(parts)


def _etag(entity_or_meta: Any) -> str | None:
    meta = getattr(entity_or_meta, "metadata", None)
    if meta is not None:
        return meta.get("etag")
    return entity_or_meta.get("etag") if isinstance(entity_or_meta, dict) else None


class JobStore:
    def __init__(self, clients: StorageClients, *, table: str = PROWJOBS_TABLE):
        self.clients = clients
        self.table_name = table
        self._table = None

    # -- plumbing ------------------------------------------------------------------------------

    def table(self):
        if self._table is None:
            self._table = self.clients.table().get_table_client(self.table_name)
        return self._table

    def ensure_table(self) -> None:
        from azure.core.exceptions import ResourceExistsError
        try:
            self.clients.table().create_table(self.table_name)
        except ResourceExistsError:
            pass

    def _write(self, op: Callable[[], Any]) -> Any:
        """Run a write, creating the table first on fresh storage."""
        from azure.core.exceptions import ResourceNotFoundError
        try:
            return op()
        except ResourceNotFoundError:     # fresh storage: no table yet
            self.ensure_table()
            return op()

    def _upsert(self, entity: dict) -> None:
        from azure.data.tables import UpdateMode
        self._write(lambda: self.table().upsert_entity(entity, mode=UpdateMode.REPLACE))

    def _delete(self, partition: str, row: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError
        try:
            self.table().delete_entity(partition, row)
        except ResourceNotFoundError:
            pass

    def _query(self, partition: str, *, top: int | None = None) -> Iterator[Any]:
        from azure.core.exceptions import ResourceNotFoundError
        pages = self.table().query_entities("PartitionKey eq @pk", parameters={"pk": partition},
                                            results_per_page=min(top, 1000) if top else None)
        try:
            for n, entity in enumerate(pages):
                if top is not None and n >= top:
                    return
                yield entity
        except ResourceNotFoundError:
            return

    @staticmethod
    def _record_entity(job: ProwJob) -> dict[str, Any]:
        doc = json.dumps(job.to_dict(), separators=(",", ":"), sort_keys=False)
        return {"PartitionKey": record_key(job.name), "RowKey": RECORD_ROW, "State": job.state, "Job": job.job,
                "Type": job.type, "Created": job.created, "Complete": job.complete, **split_text("Doc", doc)}

    @staticmethod
    def _from_entity(entity: Any) -> ProwJob:
        return ProwJob.from_dict(json.loads(join_text("Doc", entity)), created=entity.get("Created", ""),
                                 etag=_etag(entity))

    # -- records -------------------------------------------------------------------------------

    def create(self, job: ProwJob) -> ProwJob:
        """Store a new job with its pointers (raises JobExists if its id is taken)."""
        from azure.core.exceptions import ResourceExistsError
        if not job.created:
            job.created = new_build_id()
        pointer = {"Id": job.name, "Job": job.job, "Type": job.type}
        self._upsert({"PartitionKey": history_key(job.job), "RowKey": newest_first(job.created, job.name), **pointer})
        if job.refs and job.pull_numbers:
            repo = f"{job.refs.get('org', '')}/{job.refs.get('repo', '')}"
            for number in job.pull_numbers:
                self._upsert({"PartitionKey": pull_key(repo, number),
                              "RowKey": newest_first(job.created, job.name), **pointer})
        if not job.complete:
            self._upsert({"PartitionKey": ACTIVE, "RowKey": oldest_first(job.created, job.name), **pointer})
        else:
            self._upsert(self._finished_pointer(job))
        if job.type == "periodic":
            self._upsert({"PartitionKey": PERIODICS, "RowKey": key(job.job), "Id": job.name, "Created": job.created,
                          "Start": job.status.get("startTime", "")})
        try:
            meta = self._write(lambda: self.table().create_entity(self._record_entity(job)))
        except ResourceExistsError as exc:
            raise JobExists(f"a job with id {job.name} exists") from exc
        job.etag = _etag(meta)
        return job

    def get(self, job_id: str) -> ProwJob:
        from azure.core.exceptions import ResourceNotFoundError
        try:
            return self._from_entity(self.table().get_entity(record_key(job_id), RECORD_ROW))
        except ResourceNotFoundError:
            raise JobNotFound(job_id) from None

    def find(self, job_id: str) -> ProwJob | None:
        try:
            return self.get(job_id)
        except JobNotFound:
            return None

    def save(self, job: ProwJob) -> ProwJob:
        """Replace the record if nobody saved it since `job` was read; JobConflict otherwise."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
        from azure.data.tables import UpdateMode
        if not job.etag:
            raise JobConflict(f"job {job.name} was not read from the store; it has no version to save over")
        if job.complete:     # first, so that no complete record lacks it (a stray one is harmless)
            self._upsert({"PartitionKey": UNREPORTED, "RowKey": oldest_first(job.created, job.name),
                          "Id": job.name, "Job": job.job, "Type": job.type})
        try:
            meta = self.table().update_entity(self._record_entity(job), mode=UpdateMode.REPLACE, etag=job.etag,
                                              match_condition=MatchConditions.IfNotModified)
        except ResourceModifiedError as exc:
            raise JobConflict(f"job {job.name} changed since it was read") from exc
        except ResourceNotFoundError as exc:
            raise JobNotFound(job.name) from exc
        job.etag = _etag(meta)
        if job.complete:
            self._upsert(self._finished_pointer(job))
            self._delete(ACTIVE, oldest_first(job.created, job.name))
        return job

    @staticmethod
    def _finished_pointer(job: ProwJob) -> dict[str, Any]:
        refs = job.refs or {}
        return {"PartitionKey": FINISHED, "RowKey": oldest_first(job.created, job.name), "Id": job.name,
                "Job": job.job, "Type": job.type, "Build": job.build_id,
                "Repo": f"{refs.get('org', '')}/{refs.get('repo', '')}" if job.pull_numbers else "",
                "Pulls": ",".join(str(n) for n in job.pull_numbers)}

    def remove(self, pointer: dict) -> None:
        """Delete a finished job and its pointers, given its `finished` pointer (`finished_before()`)."""
        job_id, created = pointer["Id"], pointer["RowKey"].split("|", 1)[0].lstrip("0") or "0"
        self._delete(history_key(pointer.get("Job", "")), newest_first(created, job_id))
        for number in filter(None, (pointer.get("Pulls") or "").split(",")):
            self._delete(pull_key(pointer.get("Repo", ""), number), newest_first(created, job_id))
        if pointer.get("Build"):
            self._delete(build_key(pointer.get("Job", "")), pointer["Build"])
        self._delete(ACTIVE, oldest_first(created, job_id))
        self._delete(record_key(job_id), RECORD_ROW)
        self._delete(FINISHED, pointer["RowKey"])

    def modify(self, job_id: str, change: Callable[[ProwJob], bool | None], *, attempts: int = 5) -> ProwJob:
        """Read, apply `change` (returning False means "nothing to write"), save; on a conflict
        read again and re-apply. Returns the job as stored."""
        for _ in range(attempts):
            job = self.get(job_id)
            if change(job) is False:
                return job
            try:
                return self.save(job)
            except JobConflict:
                continue
        raise JobConflict(f"job {job_id}: gave up after {attempts} conflicting updates")

    # -- queries -------------------------------------------------------------------------------

    def _resolve(self, ids: Iterable[str]) -> list[ProwJob]:
        jobs, seen = [], set()
        for job_id in ids:
            if job_id in seen:        # a create retried after a crash left a second pointer
                continue
            seen.add(job_id)
            job = self.find(job_id)
            if job is not None:
                jobs.append(job)
        return jobs

    def unfinished(self) -> list[ProwJob]:
        """Every job not complete, oldest first (stale pointers of complete jobs are removed)."""
        jobs = []
        for pointer in self._query(ACTIVE):
            job = self.find(pointer["Id"])
            if job is None:
                continue
            if job.complete or pointer["RowKey"] != oldest_first(job.created, job.name):
                self._delete(ACTIVE, pointer["RowKey"])     # finished, or left by a retried create
                continue
            jobs.append(job)
        return jobs

    def unfinished_pointers(self) -> list[dict]:
        """The active index alone (Id, Job, Type), oldest first: no record reads."""
        return [dict(p) for p in self._query(ACTIVE)]

    def finished_before(self, created_before: str, *, limit: int | None = None) -> Iterator[dict]:
        """`finished` pointers of jobs created before the snowflake `created_before`, oldest first."""
        from azure.core.exceptions import ResourceNotFoundError
        pages = self.table().query_entities("PartitionKey eq @pk and RowKey lt @rk",
                                            parameters={"pk": FINISHED, "rk": f"{int(created_before):019d}"},
                                            results_per_page=min(limit, 1000) if limit else None)
        try:
            for n, entity in enumerate(pages):
                if limit is not None and n >= limit:
                    return
                yield dict(entity)
        except ResourceNotFoundError:
            return

    def latest_periodics(self) -> dict[str, dict]:
        """{periodic job name: pointer (Id, Created, Start) to its newest run}: one partition read."""
        return {unquote(p["RowKey"]): dict(p) for p in self._query(PERIODICS)}

    def unreported(self) -> list[ProwJob]:
        """Complete jobs whose final state was not yet reported (see `mark_reported`), oldest first."""
        return self._resolve(p["Id"] for p in self._query(UNREPORTED))

    def mark_reported(self, job: ProwJob) -> None:
        """The reporters are done with this complete job: drop its `unreported` pointer."""
        self._delete(UNREPORTED, oldest_first(job.created, job.name))

    def history(self, job_name: str, *, limit: int = 20) -> list[ProwJob]:
        """The runs of one job, newest first."""
        return self._resolve(p["Id"] for p in self._query(history_key(job_name), top=limit))

    def for_pull(self, repo: str, number: int) -> list[ProwJob]:
        """The jobs of one pull request (`org/repo`, number), newest first."""
        return self._resolve(p["Id"] for p in self._query(pull_key(repo, number)))

    # -- build ids -----------------------------------------------------------------------------

    def reserve_build_id(self, job: ProwJob, *, draw: Callable[[], str] = new_build_id, attempts: int = 10) -> str:
        """A build id no other run of this job name has (insert-if-absent; a clash draws again)."""
        from azure.core.exceptions import ResourceExistsError
        for _ in range(attempts):
            build_id = draw()
            try:
                self._write(lambda: self.table().create_entity(
                    {"PartitionKey": build_key(job.job), "RowKey": build_id, "Id": job.name}))
                return build_id
            except ResourceExistsError:
                log.info("jobs: build id %s of %s was taken; drawing another", build_id, job.job)
        raise RuntimeError(f"no free build id for {job.job} after {attempts} draws")
