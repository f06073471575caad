"""Hybrid retrieval on the real model and index, and the CLI's errors for bad input."""

import json

import pytest

from coach.core import Coach
from coach.errors import IndexMissingError, QueryError, StoreUnavailableError
from coach.search.lc_retriever import GuideRetriever
from coach.settings import load_settings
from tests.conftest import run_cli, write_config


@pytest.fixture
def coach(settings, embeddings):
    c = Coach(settings)
    c.__dict__["embeddings"] = embeddings
    c.ingest()
    return c


@pytest.mark.parametrize("query,section", [
    ("how many weeks pass before we find out whether a prediction was right", "fx-labels"),
    ("keep the value used for training identical to the one used in production", "fx-feature-store"),
    ("send a few percent of requests to the new model first", "fx-canary"),
    ("what number tells me an input distribution moved enough to investigate", "fx-psi"),
    ("approve or block a purchase in under 50 ms", "fx-fraud"),
])
def test_paraphrased_queries_find_the_section(coach, query, section):
    hits = coach.retrieve(query, k=3)
    assert hits[0].section_id == section, [h.section_id for h in hits]


def test_exact_terms_through_bm25(coach):
    assert coach.retrieve("PSI 0.25", k=1)[0].section_id == "fx-psi"


def test_topic_filter(coach):
    hits = coach.retrieve("labels arrive late chargeback", k=5, topic="architectures")
    assert hits and all(h.topic == "architectures" for h in hits)


def test_hit_fields_and_ranks(coach):
    hits = coach.retrieve("feature store online offline", k=4)
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert all(hits[i].score >= hits[i + 1].score for i in range(len(hits) - 1))
    top = hits[0]
    assert top.source.endswith(".md") and top.heading.startswith(top.title) and -1 <= top.similarity <= 1


def test_langchain_retriever(coach):
    retriever = coach.retriever(k=2)
    assert isinstance(retriever, GuideRetriever)
    docs = retriever.invoke("population stability index")
    assert len(docs) == 2 and docs[0].metadata["section_id"] == "fx-psi"


@pytest.mark.parametrize("query,topic,match", [
    ("", None, "empty"),
    ("   \n ", None, "empty"),
    ("x" * 10_001, None, "limit is 10,000"),
    ("drift", "cooking", "unknown topic 'cooking'"),
])
def test_bad_queries(coach, query, topic, match):
    with pytest.raises(QueryError, match=match):
        coach.retrieve(query, topic=topic)


def test_missing_index_says_run_ingest(settings):
    with pytest.raises(IndexMissingError, match="run `coach ingest`"):
        Coach(settings).retrieve("drift")
    assert not settings.chroma_path.exists(), "reading must not create an index folder"


def test_unreachable_server(tmp_path, knowledge):
    from tests.conftest import free_port

    cfg = write_config(tmp_path, knowledge, vector_store={"host": "127.0.0.1", "port": free_port()})
    with pytest.raises(StoreUnavailableError, match="cannot reach the Chroma server"):
        Coach(load_settings(cfg, env={})).retrieve("drift")


def test_cli_json_schema_and_errors(tmp_path, knowledge):
    cfg = write_config(tmp_path, knowledge)
    code, out, err = run_cli("retrieve", "drift", config=cfg)
    assert code != 0 and "run `coach ingest`" in err and "Traceback" not in err
    assert run_cli("ingest", config=cfg)[0] == 0
    code, out, err = run_cli("retrieve", "how do I know a feature drifted", "-k", "2", "--json", config=cfg)
    assert code == 0, err
    data = json.loads(out)
    assert len(data) == 2
    for item in data:
        assert {"rank", "score", "topic", "section_id", "title", "heading", "source", "text"} <= set(item)
    assert data[0]["section_id"] == "fx-psi"
    for args, needle in [(("retrieve", "  "), "empty"), (("retrieve", "x" * 10_001), "limit"),
                         (("retrieve", "drift", "--topic", "cooking"), "invalid choice")]:
        code, out, err = run_cli(*args, config=cfg)
        assert code != 0 and needle in err and "Traceback" not in err
    db = tmp_path / "data" / "chroma" / "chroma.sqlite3"
    db.write_bytes(b"garbage" * 1000)
    code, out, err = run_cli("retrieve", "drift", config=cfg)
    assert code != 0 and "coach ingest --rebuild" in err and "Traceback" not in err
