"""Ingest pipeline: load -> validate -> chunk -> embed -> upsert into Chroma (incremental)."""

from ingest.pipeline import IngestReport, run_ingest

__all__ = ["IngestReport", "run_ingest"]
