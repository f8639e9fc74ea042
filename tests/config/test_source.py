"""ConfigSource: load once, reload only on change, never replace a good config with a bad one;
from local files and from a blob prefix in Azurite."""
from __future__ import annotations

import logging
import os
import shutil
import threading
from pathlib import Path

import pytest

from shared.config.errors import ConfigError
from shared.config.source import BlobLocation, ConfigSource, parse_blob_location
from shared.storage import StorageClients, StorageSettings
from tests.conftest import CORPUS

METAL3 = CORPUS / "prow-configs" / "metal3"
JOB = """presubmits:
  acme/widgets:
  - name: {name}
    always_run: true
    spec:
      containers:
      - image: alpine
"""


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float = 11.0) -> None:
        self.now += seconds


def presubmit_names(loaded) -> list[str]:
    return [job.name for jobs in loaded.jobs.presubmits.values() for job in jobs]


def touch_later(path: Path, text: str) -> None:
    """Rewrite a file so its mtime surely differs (file systems with coarse timestamps)."""
    before = path.stat().st_mtime_ns
    path.write_text(text)
    os.utime(path, ns=(before + 10**9, before + 10**9))


@pytest.fixture
def local(tmp_path):
    (tmp_path / "jobs").mkdir()
    (tmp_path / "config.yaml").write_text("pod_namespace: pods\n")
    (tmp_path / "jobs" / "widgets.yaml").write_text(JOB.format(name="unit"))
    (tmp_path / "plugins.yaml").write_text("plugins:\n  acme: [lgtm]\n")
    clock = Clock()
    source = ConfigSource(str(tmp_path / "config.yaml"), str(tmp_path / "jobs"), str(tmp_path / "plugins.yaml"),
                          clock=clock)
    return tmp_path, source, clock


def test_local_loads_once_and_not_again_when_unchanged(local):
    _, source, clock = local
    first = source.get_config()
    assert presubmit_names(first) == ["unit"]
    assert source.get_config() is first
    clock.advance()
    assert source.get_config() is first  # re-checked, nothing changed: not parsed again
    assert source.loads == 1


def test_local_reloads_after_a_change_once_the_interval_passed(local):
    root, source, clock = local
    first = source.get_config()
    touch_later(root / "jobs" / "widgets.yaml", JOB.format(name="integration"))
    assert source.get_config() is first  # within min_interval: no check yet
    clock.advance()
    assert presubmit_names(source.get_config()) == ["integration"]
    # A new file in the job directory counts as a change too.
    (root / "jobs" / "more.yaml").write_text(JOB.format(name="e2e").replace("acme/widgets", "acme/gadgets"))
    clock.advance()
    assert sorted(presubmit_names(source.get_config())) == ["e2e", "integration"]
    assert source.loads == 3


def test_local_bad_change_keeps_the_last_good_config(local, caplog):
    root, source, clock = local
    good = source.get_config()
    touch_later(root / "plugins.yaml", "plugins:\n  acme: [lgtm]\n  acme/widgets: [lgtm]\n")
    clock.advance()
    with caplog.at_level(logging.ERROR, logger="shared.config.source"):
        assert source.get_config() is good
    assert any("plugins.yaml:3" in r.getMessage() for r in caplog.records)
    assert any("still serving the last good one" in r.getMessage() for r in caplog.records)
    clock.advance()
    assert source.get_config() is good and source.loads == 2  # the same bad files are not parsed again
    touch_later(root / "plugins.yaml", "plugins:\n  acme: [lgtm, hold]\n")
    clock.advance()
    assert source.get_config().plugins.plugins_for("acme", "widgets") == ["lgtm", "hold"]


def test_never_a_good_config_raises(tmp_path):
    (tmp_path / "config.yaml").write_text("tide: [\n")
    source = ConfigSource(str(tmp_path / "config.yaml"), clock=Clock())
    with pytest.raises(ConfigError) as info:
        source.get_config()
    assert "config.yaml:" in str(info.value)


def test_from_env_requires_the_config_path():
    with pytest.raises(ConfigError, match="PROW_CONFIG_PATH is not set"):
        ConfigSource.from_env({})


def test_concurrent_callers_share_one_load(local):
    _, source, _ = local
    results, barrier = [], threading.Barrier(8)

    def call():
        barrier.wait()
        results.append(source.get_config())

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(r is results[0] for r in results)
    assert source.loads == 1


def test_blob_locations_parse():
    assert parse_blob_location("blob://config/prow/jobs/") == BlobLocation("config", "prow/jobs")
    endpoint = "http://127.0.0.1:10000/devstoreaccount1/"
    assert parse_blob_location("http://127.0.0.1:10000/devstoreaccount1/config/prow/config.yaml",
                               endpoint) == BlobLocation("config", "prow/config.yaml")
    assert parse_blob_location("https://acct.blob.core.windows.net/c/a%20b.yaml",
                               "https://acct.blob.core.windows.net/") == BlobLocation("c", "a b.yaml")
    with pytest.raises(ValueError, match="not in the app's storage account"):
        parse_blob_location("https://other.blob.core.windows.net/c/x", "https://acct.blob.core.windows.net/")
    with pytest.raises(ValueError, match="no container"):
        parse_blob_location("blob://")


# -- blobs in Azurite --------------------------------------------------------------------------------

@pytest.fixture
def blob_corpus(azurite, unique_name):
    """The metal3 corpus uploaded under prefix `prow/config/` of a fresh container."""
    clients = StorageClients(StorageSettings(connection_string=azurite.connection_string))
    container = unique_name("cfg")
    client = clients.blob().create_container(container)
    for path in sorted(METAL3.rglob("*")):
        if path.is_file():
            client.upload_blob(f"prow/config/{path.relative_to(METAL3).as_posix()}", path.read_bytes())
    client.upload_blob("prow/unrelated.txt", b"not config")
    yield clients, container, client
    client.delete_container()


def blob_source(clients, container, clock, *, url_base: str | None = None) -> ConfigSource:
    base = url_base or f"blob://{container}/"
    return ConfigSource(f"{base}prow/config/config.yaml", f"{base}prow/config/jobs",
                        f"{base}prow/config/plugins.yaml", clients=clients, clock=clock)


class CountingFetch:
    def __init__(self, source: ConfigSource):
        self.names: list[str] = []
        original = source._fetch_blob

        def fetch(container, name):
            self.names.append(name)
            return original(container, name)

        source._fetch_blob = fetch


def test_blob_prefix_loads_and_reloads_only_changed_blobs(blob_corpus):
    clients, container, client = blob_corpus
    clock = Clock()
    source = blob_source(clients, container, clock)
    fetched = CountingFetch(source)
    first = source.get_config()
    assert first.errors == []
    assert sum(len(jobs) for jobs in first.jobs.presubmits.values()) == 628
    assert len(first.jobs.periodics) == 4
    assert len(fetched.names) == 43
    assert all(f.startswith(f"blob://{container}/prow/config/") for f in first.files)

    clock.advance()
    assert source.get_config() is first and source.loads == 1  # listed, unchanged

    periodics = (METAL3 / "jobs" / "periodics.yaml").read_text()
    client.upload_blob("prow/config/jobs/periodics.yaml",
                       periodics.replace("name: periodic-stale", "name: periodic-stale-renamed"), overwrite=True)
    client.upload_blob("prow/unrelated.txt", b"changed, but not config", overwrite=True)
    fetched.names.clear()
    clock.advance()
    second = source.get_config()
    assert second is not first
    assert fetched.names == ["prow/config/jobs/periodics.yaml"]
    assert "periodic-stale-renamed" in [job.name for job in second.jobs.periodics]


def test_blob_bad_change_keeps_the_last_good_config(blob_corpus, caplog):
    clients, container, client = blob_corpus
    clock = Clock()
    source = blob_source(clients, container, clock)
    good = source.get_config()
    client.upload_blob("prow/config/jobs/broken.yaml", b"presubmits:\n  metal3-io/x:\n  - name: [\n")
    clock.advance()
    with caplog.at_level(logging.ERROR, logger="shared.config.source"):
        assert source.get_config() is good
    assert any(f"blob://{container}/prow/config/jobs/broken.yaml:" in r.getMessage() for r in caplog.records)
    client.delete_blob("prow/config/jobs/broken.yaml")
    clock.advance()
    fixed = source.get_config()
    assert fixed is not good and fixed.errors == []


def test_blob_url_of_the_app_account(blob_corpus):
    clients, container, _ = blob_corpus
    base = clients.blob().url.rstrip("/") + f"/{container}/"
    assert base.startswith("http://127.0.0.1:")
    loaded = blob_source(clients, container, Clock(), url_base=base).get_config()
    assert len(loaded.jobs.periodics) == 4


def test_blob_missing_config_is_an_error_naming_it(blob_corpus):
    clients, container, _ = blob_corpus
    source = ConfigSource(f"blob://{container}/nowhere/config.yaml", clients=clients, clock=Clock())
    with pytest.raises(ConfigError, match=f"blob://{container}/nowhere/config.yaml: config file does not exist"):
        source.get_config()


def test_local_and_blob_sources_agree(blob_corpus, tmp_path):
    clients, container, _ = blob_corpus
    shutil.copytree(METAL3, tmp_path / "metal3")
    local = ConfigSource(str(tmp_path / "metal3" / "config.yaml"), str(tmp_path / "metal3" / "jobs"),
                         str(tmp_path / "metal3" / "plugins.yaml"), clock=Clock()).get_config()
    remote = blob_source(clients, container, Clock()).get_config()
    assert sorted(presubmit_names(local)) == sorted(presubmit_names(remote))
    assert len(local.notices) == len(remote.notices)


def test_storage_outage_keeps_serving_and_first_failure_raises():
    """With blobs faked in memory: a listing that fails after a good load is logged, not raised."""
    blobs = {("cfg", "prow/config.yaml"): ("e1", b"pod_namespace: pods\n")}
    source = ConfigSource("blob://cfg/prow/config.yaml", clock=Clock())
    down = {"now": False}

    def listing():
        if down["now"]:
            raise ConnectionError("storage unreachable")
        return {key: etag for key, (etag, _) in blobs.items()}

    source._blob_listing = listing
    source._fetch_blob = lambda container, name: (blobs[(container, name)][1], blobs[(container, name)][0])
    good = source.get_config()
    assert good.prow.pod_namespace == "pods"
    down["now"] = True
    source._clock.advance()
    assert source.get_config() is good

    fresh = ConfigSource("blob://cfg/prow/config.yaml", clock=Clock())
    fresh._blob_listing = listing
    with pytest.raises(ConfigError, match="cannot read the config: storage unreachable"):
        fresh.get_config()


def test_get_config_follows_the_app_settings(tmp_path, monkeypatch):
    from shared.config import get_config
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("pod_namespace: first\n")
    second.write_text("pod_namespace: second\n")
    monkeypatch.delenv("PROW_JOB_CONFIG_PATH", raising=False)
    monkeypatch.delenv("PROW_PLUGIN_CONFIG_PATH", raising=False)
    monkeypatch.setenv("PROW_CONFIG_PATH", str(first))
    assert get_config().prow.pod_namespace == "first"
    monkeypatch.setenv("PROW_CONFIG_PATH", str(second))
    assert get_config().prow.pod_namespace == "second"
