"""Practice sessions: the interview engine, self-assessment, progress and session reports."""
