"""A start-up cache of the validated question bank.

Parsing and validating the bank's ~15K lines of YAML takes ~0.3 s, which every process start
paid (the web app shows its first page ~0.3 s later for it). The validated bank is pickled under
the data folder, keyed by a hash of everything it was built from: the bank's files, the guide's
section ids it was checked against, and the source of the code that parses and validates it. Any
change there, or a cache that cannot be read, means a fresh parse; the cache is only ever a copy.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.questions import QuestionBank

_CODE = sorted(Path(__file__).parent.glob("*.py"))


def _bank_key(knowledge_dir: Path, section_ids: set[str]) -> str:
    digest = hashlib.sha256(f"{sys.version_info[:2]}|{pickle.HIGHEST_PROTOCOL}".encode())
    files = [knowledge_dir / "rubric.yaml", *sorted((knowledge_dir / "questions").glob("*.yaml"))]
    for path in [*files, *_CODE]:
        digest.update(path.name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
    digest.update("\n".join(sorted(section_ids)).encode())
    return digest.hexdigest()


def load_bank_cached(knowledge_dir: Path, section_ids: set[str], cache_dir: Path) -> "QuestionBank":
    """The bank as ``load_question_bank`` returns it, from ``cache_dir`` when nothing changed.

    A bank that fails validation raises as before and is never cached.
    """
    from coach.content.questions import QuestionBank, load_question_bank

    key = _bank_key(knowledge_dir, section_ids)
    path = cache_dir / "bank.pickle"
    try:
        with path.open("rb") as file:
            stored_key, bank = pickle.load(file)
        if stored_key == key and isinstance(bank, QuestionBank):
            return bank
    except Exception:  # noqa: BLE001 - missing, stale or unreadable: the cache is only a copy
        pass
    bank = load_question_bank(knowledge_dir, section_ids)
    tmp_name = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=cache_dir, prefix=".bank-", delete=False) as tmp:
            tmp_name = tmp.name
            pickle.dump((key, bank), tmp, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp_name, 0o644)  # other processes of a shared deployment read it too
        os.replace(tmp_name, path)  # readers see the old file or the new one, never half of one
    except OSError:  # a read-only data folder still works, only slower to start
        if tmp_name:
            Path(tmp_name).unlink(missing_ok=True)
    return bank
