"""The example config that `make run` points at passes checkconfig --strict."""
from pathlib import Path

from shared.cli import main as cli

ROOT = Path(__file__).resolve().parent.parent


def test_example_config_is_valid_under_strict(capsys):
    ex = ROOT / "examples" / "prow"
    rc = cli(["checkconfig", "--config-path", str(ex / "config.yaml"), "--job-config-path", str(ex / "jobs"),
              "--plugin-config", str(ex / "plugins.yaml"), "--strict", "--output", "json"])
    import json
    out = json.loads(capsys.readouterr().out)
    assert rc == 0, out
    assert (out["presubmits"], out["postsubmits"], out["periodics"]) == (2, 0, 0)
    assert out["errors"] == [] and out["warnings"] == []
