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
