"""The same ingest and retrieval against a real `chroma run` server."""

import pytest

from coach.core import Coach
from coach.settings import load_settings
from tests.conftest import write_config

pytestmark = pytest.mark.server


def test_ingest_and_retrieve_through_server(tmp_path, knowledge, chroma_server, embeddings):
    cfg = write_config(tmp_path, knowledge, vector_store={"host": chroma_server["host"], "port": chroma_server["port"]})
    coach = Coach(load_settings(cfg, env={}))
    coach.__dict__["embeddings"] = embeddings
    first = coach.ingest()
    assert first.chunks_total == first.embedded > 0
    again = coach.ingest()
    assert again.embedded == 0 and again.chunks_total == first.chunks_total
    hits = coach.retrieve("how many weeks pass before we find out whether a prediction was right", k=3)
    assert hits[0].section_id == "fx-labels"
    assert not (tmp_path / "data" / "chroma").exists(), "server mode must not write a local index"
