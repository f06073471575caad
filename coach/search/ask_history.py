"""The questions of an Ask conversation on the command line (``coach ask --session ID``).

The web app keeps the conversation in the page; the CLI has no page, so each named conversation
is a small JSON file under ``<data_dir>/ask/``, replaced whole on every write (a crash leaves the
old file or the new one, never half of one).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

from coach.errors import QueryError

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class AskHistory:
    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def _path(self, session_id: str) -> Path:
        if not _ID.match(session_id or ""):
            raise QueryError(f"ask session id {session_id!r}: use 1-64 letters, digits, '-' or '_'")
        return self.folder / f"{session_id}.json"

    def questions(self, session_id: str) -> list[str]:
        path = self._path(session_id)
        if not path.is_file():
            return []
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise QueryError(f"{path}: the ask conversation cannot be read ({exc}); delete the file to start over") from None
        return [q for q in data.get("questions", []) if isinstance(q, str)]

    def save(self, session_id: str, questions: list[str]) -> None:
        """Replace the conversation's questions (the caller has just read and extended them)."""
        path = self._path(session_id)
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".ask-", dir=self.folder)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"questions": questions[-20:]}, handle, ensure_ascii=False)
        os.replace(tmp, path)
