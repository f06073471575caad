"""Our exception family: services raise these; only the CLI and the UI turn them into messages.

Every message names what is wrong, where (file, line, field) and, when there is one, the command
that fixes it, so an edge can show it in one line without a traceback.
"""

from __future__ import annotations


class CoachError(Exception):
    """Base class of every expected error; the edges print ``str(err)`` and exit non-zero."""

    exit_code = 1


class SettingsError(CoachError):
    """A settings file or environment override is missing, unreadable or invalid."""

    exit_code = 2


class KnowledgeError(CoachError):
    """A guide section or a question-bank file is malformed (the message names the file)."""

    exit_code = 3


class IndexMissingError(CoachError):
    """The vector index is absent, empty, stale or unreadable."""

    exit_code = 4


class StoreUnavailableError(CoachError):
    """The vector store (for example a Chroma server) cannot be reached."""

    exit_code = 5


class QueryError(CoachError):
    """A query, answer or argument given by the user is unusable (empty, too long, unknown topic)."""

    exit_code = 2


class LLMError(CoachError):
    """The chat backend is misconfigured or failed; callers usually fall back to template text."""

    exit_code = 6


class PromptError(CoachError):
    """A prompt template is missing or was rendered without one of its variables."""

    exit_code = 7


class SessionError(CoachError):
    """A practice session was used out of order or does not exist."""

    exit_code = 8


class StoreError(CoachError):
    """The session database is unreadable, locked, or newer than this version of the coach."""

    exit_code = 9
