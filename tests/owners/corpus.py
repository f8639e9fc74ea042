"""The real OWNERS tree of kubernetes/test-infra (../shared/corpus/owners) as a repository of the fake GitHub."""
from __future__ import annotations

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "owners" / "kubernetes-test-infra"
TREE = CORPUS / "tree"


def corpus_files() -> list[str]:
    """Every file path of the repository (files.txt)."""
    return [line for line in (CORPUS / "files.txt").read_text().splitlines() if line.strip()]


def corpus_contents() -> dict[str, bytes]:
    """{path: content}: the OWNERS and OWNERS_ALIASES files as they are, every other file a stand-in."""
    out = {}
    for path in corpus_files():
        real = TREE / path
        out[path] = real.read_bytes() if real.is_file() else f"content of {path}\n".encode()
    return out


def add_corpus_repo(gh, full_name: str = "kubernetes/test-infra") -> None:
    """Create `full_name` in the fake with the corpus tree on its default branch `master`."""
    gh.add_repo(full_name, default_branch="master", files=corpus_contents())
