"""The ONNX backend against its reference (sentence-transformers), and a query path without torch."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from coach.content.guide import load_guide
from coach.search.embeddings import LocalEmbeddings
from coach.search.onnx_model import PoolingConfig, ensure_export, export_dir_for, plan_batches
from coach.search.model_files import packaged_model_path
from ingest.chunking import Chunker
from tests.conftest import MODELS_DIR, ROOT, write_config


@pytest.fixture(scope="module")
def reference():
    return LocalEmbeddings(backend="torch")


@pytest.fixture(scope="module")
def guide_chunks() -> list[str]:
    guide = load_guide(ROOT / "knowledge")
    chunker = Chunker(1000, 150)
    return [c.text for s in guide.sections.values() for c in chunker.split(s)]


def test_pooling_follows_the_models_own_config():
    config = PoolingConfig.read(packaged_model_path())
    assert (config.mode, config.normalize) == ("mean", True)
    assert config.max_seq_length == 256


@pytest.fixture(scope="module")
def chunk_vectors(embeddings, reference, guide_chunks):
    """Every guide chunk embedded by both backends, once for the module."""
    return embeddings.encode(guide_chunks), reference.encode(guide_chunks)


def test_backends_agree_on_every_guide_chunk(embeddings, chunk_vectors, guide_chunks):
    assert embeddings.backend == "onnx"
    ours, ref = chunk_vectors
    cosine = (ours * ref).sum(axis=1)
    worst = int(np.argmin(cosine))
    assert cosine.min() >= 0.999, (cosine.min(), guide_chunks[worst][:80])
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)


def test_backends_rank_the_same_top5(embeddings, reference, chunk_vectors):
    import yaml

    data = yaml.safe_load((ROOT / "evals" / "data" / "retrieval_queries.yaml").read_text(encoding="utf-8"))
    queries = [q["query"] for q in data["queries"]]
    docs_ours, docs_ref = chunk_vectors
    top_ours = np.argsort(-(embeddings.encode(queries) @ docs_ours.T), axis=1)[:, :5]
    top_ref = np.argsort(-(reference.encode(queries) @ docs_ref.T), axis=1)[:, :5]
    differ = [q for q, a, b in zip(queries, top_ours, top_ref) if set(a) != set(b)]
    assert not differ, differ[:3]


def test_batches_split_where_padding_would_cost_more_than_a_run():
    lengths = [120, 14, 13, 13, 12, 12, 11, 10, 9, 9, 8]
    runs = plan_batches(lengths, max_batch=32, overhead=16)
    assert runs[0] == (0, 1)  # the long sentence alone: padding ten clauses to 120 tokens costs ~1000
    assert [r for run in runs for r in range(*run)] == list(range(len(lengths)))  # every row once, in order
    even = plan_batches([10] * 70, max_batch=32)  # no padding to save: as few runs as the batch size allows
    assert len(even) == 3 and all(end - start <= 32 for start, end in even)
    assert plan_batches([], max_batch=32) == []


def test_a_vector_does_not_depend_on_its_batch(embeddings, guide_chunks):
    """Runs of other rows and widths (what plan_batches and the grader's cache rely on) give the same bits."""
    texts = [c[:n] for c, n in zip(guide_chunks[:40], [30, 200, 60, 900, 15, 400, 120, 80] * 5)]
    together = embeddings.encode(texts)
    for i in (0, 1, 3, 4, 17, 39):
        assert np.array_equal(embeddings.encode([texts[i]])[0], together[i])
    assert np.array_equal(embeddings.encode(texts[::-1])[::-1], together)


def test_export_is_cached_and_written_whole(tmp_path):
    model_dir = packaged_model_path()
    first = ensure_export(model_dir, MODELS_DIR)
    stamp = (first / "model.onnx").stat().st_mtime_ns
    assert ensure_export(model_dir, MODELS_DIR) == first
    assert (first / "model.onnx").stat().st_mtime_ns == stamp  # not exported again
    assert first == export_dir_for(model_dir, MODELS_DIR)
    assert not [p for p in MODELS_DIR.iterdir() if p.name.startswith(".export-")]  # no half-written folder
    assert json.loads((first / "pooling.json").read_text())["mode"] == "mean"
    assert (first / "model.onnx.data").stat().st_size > 50e6 > (first / "model.onnx").stat().st_size  # weights mapped, not parsed


def test_unknown_backend_is_refused():
    from coach.errors import SettingsError

    with pytest.raises(SettingsError, match="embeddings.backend"):
        LocalEmbeddings(backend="tensorflow")


def test_query_path_imports_neither_torch_nor_sentence_transformers(real_coach, tmp_path):
    """A real `coach retrieve` process over an ingested index: torch never loads, nor LangChain
    (whose embeddings interface alone costs ~0.1 s; ingest's LangChain wrapper gets an adapter)."""
    cfg = write_config(tmp_path, ROOT / "knowledge", llm={"mode": "fake"},
                       vector_store={"path": str(real_coach.settings.chroma_path)})
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['coach', '--config', sys.argv[1], 'retrieve', 'how do I detect drift', '-k', '3', '--json']\n"
        "try:\n    runpy.run_module('coach.cli', run_name='__main__')\n"
        "except SystemExit as e:\n    code = e.code\n"
        "print('HEAVY', sorted(m for m in ('torch', 'sentence_transformers', 'transformers', 'langchain_core') if m in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe, str(cfg)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    hits = json.loads(proc.stdout[: proc.stdout.rindex("HEAVY")])
    assert len(hits) == 3 and all("section_id" in h for h in hits)
    assert proc.stdout.strip().endswith("HEAVY []"), proc.stdout[-300:]


def test_the_export_runs_fused_transformer_operators():
    """The export hands onnxruntime fused Attention / SkipLayerNormalization kernels (the same vectors,
    less time). A transformers or onnxruntime release whose graph the fuser no longer recognises
    would still give right vectors, only slower: this says so instead of letting it pass silently."""
    import onnx

    export = ensure_export(packaged_model_path(), MODELS_DIR)
    graph = onnx.load(str(export / "model.onnx"), load_external_data=False).graph
    ops = {node.op_type for node in graph.node}
    assert {"Attention", "SkipLayerNormalization"} <= ops, sorted(ops)
    assert "Softmax" not in ops  # no unfused attention left
