"""`GET /api/plugin-help`: Prow's help JSON, what Deck's command-help page reads."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from shared.config.errors import Diagnostics
from shared.config.plugins import parse_plugin_config
from shared.config.yamlnodes import load_yaml
from shared.plugin_help import build_help, handle_plugin_help

PLUGINS_YAML = """\
plugins:
  org:
    plugins: [help, shrug]
    excluded_repos: [skipped]
  org/extra:
    plugins: [lgtm]
  other/repo:
    plugins: [shrug]
external_plugins:
  org:
  - name: needs-rebase
    endpoint: {endpoint}
    events: [pull_request]
  other/repo:
  - name: cherrypicker
    endpoint: http://127.0.0.1:9/never
"""


def loaded(text: str, presubmit_repos=()):
    doc, _ = load_yaml(text, "plugins.yaml")
    return SimpleNamespace(plugins=parse_plugin_config(doc, "plugins.yaml", Diagnostics()),
                           jobs=SimpleNamespace(presubmits={r: [] for r in presubmit_repos}, postsubmits={}))


class HelpServer:
    def __init__(self):
        self.asked = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                server.asked.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
                body = json.dumps({"Description": "Checks rebases.", "Config": None, "Commands": None}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"


@pytest.fixture
def help_server():
    server = HelpServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def test_help_json_has_prow_shape(help_server):
    config = loaded(PLUGINS_YAML.format(endpoint=help_server.url), presubmit_repos=["org/repo", "org/tools"])
    help_ = build_help(config)

    assert set(help_) == {"AllRepos", "RepoPlugins", "RepoExternalPlugins", "PluginHelp", "ExternalPluginHelp"}
    assert help_["AllRepos"] == ["org/extra", "org/repo", "org/tools", "other/repo"]
    assert {"help", "shrug"} <= set(help_["RepoPlugins"][""])
    assert help_["RepoPlugins"]["org"] == ["help", "shrug"]
    assert help_["RepoPlugins"]["org/extra"] == ["lgtm"]
    assert help_["RepoExternalPlugins"] == {"": ["cherrypicker", "needs-rebase"], "org": ["needs-rebase"],
                                            "other/repo": ["cherrypicker"]}
    shrug = help_["PluginHelp"]["shrug"]
    assert set(shrug) == {"Description", "Config", "Events", "Commands"}
    assert shrug["Events"] == ["GenericCommentEvent (any event for user text)"]
    assert set(shrug["Commands"][0]) == {"Usage", "Featured", "Description", "Examples", "WhoCanUse"}
    assert help_["ExternalPluginHelp"] == {"needs-rebase": {"Description": "Checks rebases.", "Config": None,
                                                            "Commands": None, "Events": ["pull_request"]}}
    [(path, repos)] = help_server.asked
    assert path == "/help"
    assert repos == [{"Org": "org", "Repo": "extra"}, {"Org": "org", "Repo": "repo"}, {"Org": "org", "Repo": "tools"}]


def test_org_keys_expand_through_a_repository_listing_when_given():
    config = loaded("plugins:\n  org:\n    plugins: [help]\n")
    help_ = build_help(config, org_repos=lambda org: [f"{org}/a", f"{org}/b"])
    assert help_["AllRepos"] == ["org/a", "org/b"]


def test_an_external_plugin_that_does_not_answer_in_a_second_is_left_out():
    config = loaded(PLUGINS_YAML.format(endpoint="http://127.0.0.1:9"))
    help_ = build_help(config)
    assert help_["ExternalPluginHelp"] == {}
    assert "needs-rebase" in help_["RepoExternalPlugins"][""]


def test_only_get_is_allowed():
    response = handle_plugin_help("POST", config=lambda: loaded("plugins: {}\n"))
    assert response.status == 405 and response.body == "405 Method not allowed\n"
    assert response.headers["Cache-Control"] == "no-cache"


def test_the_plugin_help_function_serves_the_app_config(call_http, tmp_path, monkeypatch):
    (tmp_path / "config.yaml").write_text("prowjob_namespace: prow\n")
    (tmp_path / "plugins.yaml").write_text("plugins:\n  org/repo:\n    plugins: [help]\n")
    monkeypatch.setenv("PROW_CONFIG_PATH", str(tmp_path / "config.yaml"))
    monkeypatch.setenv("PROW_PLUGIN_CONFIG_PATH", str(tmp_path / "plugins.yaml"))
    monkeypatch.delenv("PROW_JOB_CONFIG_PATH", raising=False)

    resp = call_http("plugin_help", method="GET", url="http://localhost/api/plugin-help")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-cache"
    assert resp.headers["Content-Type"] == "application/json"
    body = json.loads(resp.get_body())
    assert body["AllRepos"] == ["org/repo"] and body["RepoPlugins"]["org/repo"] == ["help"]
    assert body["PluginHelp"]["help"]["Commands"][0]["Examples"][0] == "/help"

    assert call_http("plugin_help", method="DELETE", url="http://localhost/api/plugin-help").status_code == 405
