"""`mkpj`: make a ProwJob from the config, as Prow's `mkpj` does, and print it as YAML.

    python -m shared.cli mkpj --config-path config.yaml --job-config-path jobs/ --job unit \\
        --base-ref main --base-sha <sha> --pull-number 7 --pull-sha <sha> --pull-author alice

Presubmits need the base and the pull (`--pull-number`, `--pull-sha`; `--pull-author` and
`--pull-head-ref` fill the refs as GitHub would); postsubmits need the base; periodics need nothing.
Prow's mkpj asks GitHub for what is missing; this one does not call GitHub and says what to pass.
`--trigger-job` stores the record (Table `prowjobs`, `PROW_STORAGE`) and queues it for `launch`.
"""
from __future__ import annotations

import argparse
import os
import sys

import yaml


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m shared.cli mkpj", description=__doc__.split("\n")[0])
    p.add_argument("--job", required=True, help="the job to run")
    p.add_argument("--config-path", default=os.environ.get("PROW_CONFIG_PATH", ""), help="config.yaml")
    p.add_argument("--job-config-path", default=os.environ.get("PROW_JOB_CONFIG_PATH", ""),
                   help="job config file or directory")
    p.add_argument("--base-ref", default="", help="git base ref under test")
    p.add_argument("--base-sha", default="", help="git base SHA under test")
    p.add_argument("--pull-number", type=int, default=0, help="git pull number under test")
    p.add_argument("--pull-sha", default="", help="git pull SHA under test")
    p.add_argument("--pull-author", default="", help="git pull author under test")
    p.add_argument("--pull-head-ref", default="", help="git pull head ref (source branch) under test")
    p.add_argument("--github-url", default="https://github.com", help="links in the refs point here")
    p.add_argument("--trigger-job", action="store_true", help="store the job and queue it for launch")
    return p


def _find(config, name: str):
    for repo, jobs in config.jobs.presubmits.items():
        for job in jobs:
            if job.name == name:
                return "presubmit", repo, job
    for repo, jobs in config.jobs.postsubmits.items():
        for job in jobs:
            if job.name == name:
                return "postsubmit", repo, job
    periodic = config.jobs.periodic(name)
    return ("periodic", "", periodic) if periodic else (None, "", None)


def make_job(args: argparse.Namespace):
    """The ProwJob for the flags, or a message saying what is wrong (str)."""
    from shared.config.loader import load_config
    from shared.jobs.create import new_periodic, new_postsubmit, new_presubmit, pull_refs, push_refs

    config = load_config(args.config_path, args.job_config_path or None)
    if not config.ok:
        return "config has errors:\n" + "\n".join(f"  {d}" for d in config.errors)
    kind, repo, job = _find(config, args.job)
    if job is None:
        return f"job {args.job!r} is not in the config"
    namespace = config.prow.prowjob_namespace
    if kind == "periodic":
        return new_periodic(job, namespace=namespace)
    missing = [flag for flag, value in (("--base-ref", args.base_ref), ("--base-sha", args.base_sha)) if not value]
    if kind == "presubmit":
        missing += [flag for flag, value in (("--pull-number", args.pull_number), ("--pull-sha", args.pull_sha))
                    if not value]
    if missing:
        return f"{kind} {args.job} ({repo}) needs {', '.join(missing)} (this mkpj does not ask GitHub)"
    org, _, name = repo.partition("/")
    if kind == "postsubmit":
        return new_postsubmit(job, push_refs(org, name, base_ref=args.base_ref, base_sha=args.base_sha,
                                             github_url=args.github_url), namespace=namespace)
    refs = pull_refs(org, name, base_ref=args.base_ref, base_sha=args.base_sha, number=args.pull_number,
                     sha=args.pull_sha, author=args.pull_author, head_ref=args.pull_head_ref,
                     github_url=args.github_url)
    return new_presubmit(job, refs, namespace=namespace)


def to_yaml(job) -> str:
    """As Prow prints it (sigs.k8s.io/yaml: keys sorted, metadata with a null creationTimestamp)."""
    doc = job.to_dict()
    doc["metadata"] = {"creationTimestamp": None, **doc["metadata"]}
    return yaml.safe_dump(doc, sort_keys=True, default_flow_style=False)


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    job = make_job(args)
    if isinstance(job, str):
        print(job, file=sys.stderr)
        return 1
    print(to_yaml(job), end="")
    if args.trigger_job:
        from shared.jobs.queue import JobQueue
        from shared.jobs.store import JobStore
        from shared.storage import default_clients
        clients = default_clients()
        JobStore(clients).create(job)
        JobQueue(clients).enqueue(job.name)
        print(f"created prowjob {job.name} ({job.job}) and queued it for launch", file=sys.stderr)
    return 0
