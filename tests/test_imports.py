"""The webhook path stays small: no kubernetes or PyGithub ever, storage SDKs only once handling."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, sys
import function_app
after_import = sorted(m for m in sys.modules if m.split('.')[0] in ('azure', 'github', 'kubernetes', 'yaml'))
from azure.functions._http import HttpRequestHeaders
from shared.hook import handle_webhook
from shared.hmac_secret import parse_hmac_secret
class NullStore:
    def accept(self, delivery):
        return None, True
r = handle_webhook("POST", HttpRequestHeaders({"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d",
    "X-Hub-Signature-256": "sha256=00", "Content-Type": "application/json"}), b'{}', secret=parse_hmac_secret("k"),
    store=NullStore())
after_request = sorted(m for m in sys.modules if m.split('.')[0] in ('github', 'kubernetes'))
print(json.dumps({"after_import": after_import, "after_request": after_request, "status": r.status}))
"""


def test_cold_import_of_the_app_is_small():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout)
    heavy = [m for m in result["after_import"]
             if m.startswith(("azure.storage", "azure.data", "azure.identity", "github", "kubernetes", "yaml"))]
    assert heavy == []
    assert result["after_request"] == []
    assert result["status"] == 403
