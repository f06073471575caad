"""Ingest with the real embedding model into a real on-disk Chroma."""

from coach.core import Coach
from coach.content.guide import load_guide
from ingest.chunking import Chunker
from ingest.pipeline import run_ingest


def _all(coach):
    from coach.search.vectorstore import open_store

    store = open_store(coach.settings, coach.embeddings)
    return store._collection.get(include=["metadatas"])


def _coach(settings, embeddings):
    coach = Coach(settings)
    coach.__dict__["embeddings"] = embeddings
    return coach


def test_chunks_keep_heading_paths(knowledge):
    guide = load_guide(knowledge)
    chunks = Chunker(300, 50).split(guide.get("fx-labels"))
    assert len(chunks) >= 2
    headings = [c.metadata["heading"] for c in chunks]
    assert "Labels that arrive late > Feedback loop length" in headings
    assert all(c.text.startswith(c.metadata["heading"]) for c in chunks)
    assert len({c.id for c in chunks}) == len(chunks)
    # ids come from content: chunking again gives the same ids
    assert [c.id for c in Chunker(300, 50).split(guide.get("fx-labels"))] == [c.id for c in chunks]


def test_size_bound_with_overlap(knowledge):
    section = load_guide(knowledge).get("fx-labels")
    chunks = Chunker(200, 40).split(section)
    bodies = [c.text.split("\n\n", 1)[1] for c in chunks]
    assert all(len(b) <= 200 for b in bodies)


def test_reingest_is_idempotent(settings, embeddings):
    coach = _coach(settings, embeddings)
    first = coach.ingest()
    assert first.embedded == first.chunks_total > 0
    ids_before = sorted(_all(coach)["ids"])
    second = coach.ingest()
    assert second.embedded == 0 and not second.changed
    assert second.chunks_total == first.chunks_total
    ids_after = sorted(_all(coach)["ids"])
    assert ids_after == ids_before and len(set(ids_after)) == len(ids_after)
    assert all(t.unchanged_files == 1 for t in second.topics.values())


def test_incremental_update_and_deletion(settings, embeddings, knowledge):
    coach = _coach(settings, embeddings)
    coach.ingest()
    psi = knowledge / "monitoring" / "fx-psi.md"
    psi.write_text(psi.read_text().replace(
        "## Usual thresholds",
        "## Usual thresholds\nA quarantine window of seven days keeps noisy weekends from paging anyone.\n"))
    report = coach.ingest()
    assert report.files_changed == ["monitoring/fx-psi.md"]
    assert 1 <= report.embedded <= 2  # only the edited chunk(s), not the whole guide
    assert report.topics["monitoring"].removed >= 1
    hits = coach.retrieve("quarantine window weekends", k=1)
    assert hits[0].section_id == "fx-psi" and "quarantine" in hits[0].text

    (knowledge / "design-patterns" / "fx-canary.md").unlink()
    report = coach.ingest()
    assert report.files_deleted == ["design-patterns/fx-canary.md"]
    metas = _all(coach)["metadatas"]
    assert not [m for m in metas if m["section_id"] == "fx-canary"]
    assert all(h.section_id != "fx-canary" for h in coach.retrieve("canary release blast radius", k=5))


def test_rebuild_recovers_a_corrupt_index(settings, embeddings):
    coach = _coach(settings, embeddings)
    coach.ingest()
    db = settings.chroma_path / "chroma.sqlite3"
    db.write_bytes(b"this is not a database" * 100)
    report = run_ingest(settings, embeddings, rebuild=True)
    assert report.chunks_total > 0
    broken = [p for p in settings.chroma_path.parent.iterdir() if p.name.startswith("chroma.broken-")]
    assert broken, "the unreadable index is kept aside, not deleted"


def _corrupt_page_of(db_path, table: str) -> None:
    """Overwrite the middle of the first leaf page of ``table`` with garbage (the file header stays valid)."""
    import sqlite3

    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        page_size = con.execute("PRAGMA page_size").fetchone()[0]
        pageno = con.execute("SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno",
                             (table,)).fetchone()[0]
    finally:
        con.close()
    data = bytearray(db_path.read_bytes())
    start = (pageno - 1) * page_size + 200
    data[start:start + 1000] = b"garbage!" * 125
    db_path.write_bytes(bytes(data))


import pytest  # noqa: E402


@pytest.mark.parametrize("table", ["migrations", "embedding_metadata"])  # fails on open / fails on query
def test_garbage_inside_the_index_gives_one_clear_error_and_rebuild_recovers(settings, config, embeddings, table):
    from chromadb.api.client import SharedSystemClient

    from coach.errors import IndexMissingError
    from tests.conftest import run_cli

    _coach(settings, embeddings).ingest()
    SharedSystemClient.clear_system_cache()
    _corrupt_page_of(settings.chroma_path / "chroma.sqlite3", table)
    coach = _coach(settings, embeddings)
    for call in (lambda: coach.retrieve("canary release blast radius"),
                 lambda: coach.ask("how does a canary release limit the blast radius?")):
        with pytest.raises(IndexMissingError) as err:
            call()
        assert str(settings.chroma_path) in str(err.value) and "coach ingest --rebuild" in str(err.value)
    if table == "migrations":  # the command line: one line, no traceback, no Rust panic text
        code, out, stderr = run_cli("retrieve", "canary release", config=config)
        assert code == IndexMissingError.exit_code and len(stderr.strip().splitlines()) == 1, stderr
        assert str(settings.chroma_path) in stderr and "coach ingest --rebuild" in stderr
    report = coach.ingest(rebuild=True)
    assert report.chunks_total > 0
    assert [p for p in settings.chroma_path.parent.iterdir() if p.name.startswith("chroma.broken-")]
    assert coach.retrieve("canary release blast radius", k=3)[0].section_id == "fx-canary"


def test_ingest_validates_the_question_bank_before_touching_the_index(settings, embeddings, knowledge):
    from coach.errors import KnowledgeError

    bank = knowledge / "questions" / "lifecycle.yaml"
    text = bank.read_text(encoding="utf-8")
    text = text.replace("    level: mid\n", "", 1)
    text = text.replace("        probe: When do you actually find out that a payment was fraudulent?\n", "", 1)
    bank.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as err:
        run_ingest(settings, embeddings)
    message = str(err.value)
    assert "questions/lifecycle.yaml:2" in message
    assert "field 'level'" in message and "field 'rubric.0.probe'" in message
    assert not settings.chroma_path.exists(), "nothing is written when the bank is broken"
