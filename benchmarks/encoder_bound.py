"""How close a grade's embedding runs to this CPU's fp32 arithmetic: the floor under a grade's time.

A grade is ~95% embedding, so its time is set by how many tokens the grader embeds and how fast
the CPU multiplies. For each labelled answer this takes the texts its grade embeds (sentences and
clauses, batched as the encoder batches them) and times, in the same process, (1) a graph of
nothing but the encoder's matrix products on the same padded tokens (per layer Q, K, V, the
attention output and the two feed-forward matrices, six layers; the baseline) and (2) the real
embedding of those texts, which adds attention, layer norms, GELU, tokenising and pooling. The
ratio says how much of a grade's time any change to the runtime could still win; the rest needs
fewer tokens or cheaper arithmetic (int8, which moves the vectors: see the README's "int8").
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import row, timed


def _matmul_only_session(hidden: int, ffn: int, layers: int, threads: int | None):
    """An onnxruntime session running only the encoder's fp32 matrix products on [tokens, hidden]."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, weights, side_outputs, current = [], [], [], "x"
    for layer in range(layers):
        for name, (k, n) in {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden),
                             "o": (hidden, hidden), "up": (hidden, ffn), "down": (ffn, hidden)}.items():
            w = f"w{layer}{name}"
            weights.append(numpy_helper.from_array((rng.standard_normal((k, n)) * 0.05).astype(np.float32), w))
            nodes.append(helper.make_node("MatMul", [current, w], [f"{w}out"]))
            if name in ("q", "k", "v"):  # read by attention, not by the next product: kept as outputs
                side_outputs.append(f"{w}out")
            else:
                current = f"{w}out"
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in (current, *side_outputs)]
    graph = helper.make_graph(nodes, "matmuls", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["t", hidden])],
                              outputs, weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def grade_batches(coach, answers: list[dict]) -> list[list[str]]:
    """The texts each labelled answer's grade embeds (sentences, clauses), read off the encoder."""
    encoder = coach.embeddings._load()
    grader = coach.grader
    calls: list[list[str]] = []
    inner = encoder.encode

    def spy(texts, batch_size=32):  # noqa: ANN001
        calls.append(list(texts))
        return inner(texts, batch_size)

    encoder.encode = spy
    try:
        per_answer = []
        for a in answers:
            grader.sentence_vectors.clear()
            calls.clear()
            grader.grade(a["question_id"], a["answer"])
            per_answer.append([t for call in calls for t in call])
    finally:
        del encoder.encode  # back to the class's method
    return per_answer


def encoder_bound(coach, answers: list[dict]) -> list[str]:
    """Rows: per labelled answer, the matrix products of its grade's padded tokens (baseline) and
    the whole embedding of the same texts, as the grader batches them."""
    from coach.search.onnx_model import plan_batches

    encoder = coach.embeddings._load()
    if getattr(encoder, "session", None) is None:  # the torch backend: nothing to compare here
        return []
    batches = grade_batches(coach, answers)
    matmuls = _matmul_only_session(hidden=384, ffn=1536, layers=6, threads=None)
    rng = np.random.default_rng(1)
    inputs = []
    for texts in batches:
        lengths = sorted((len(e.ids) for e in encoder.tokenizer.encode_batch(texts)), reverse=True)
        inputs.append([rng.standard_normal(((end - start) * lengths[start], 384)).astype(np.float32)
                       for start, end in plan_batches(lengths, coach.embeddings.batch_size)])
    tokens = [sum(len(x) for x in runs) for runs in inputs]
    # One session at a time: onnxruntime's threads spin after a run, and two sessions interleaved
    # would slow each other down on two cores. The first pass warms both up for these shapes.
    for _ in range(2):
        base = [timed(lambda runs=runs: [matmuls.run(None, {"x": x}) for x in runs], 1)[0] for runs in inputs]
    for _ in range(2):
        full = [timed(lambda texts=texts: encoder.encode(texts, coach.embeddings.batch_size), 1)[0] for texts in batches]
    flops = 2 * sum(tokens) * 6 * (4 * 384 * 384 + 2 * 384 * 1536)
    rate = flops / (sum(base) / 1000) / 1e9
    return [f"== a grade's embedding against its own matrix products (fp32 {rate:.0f} GFLOP/s here; "
            f"median {int(np.median(tokens))} padded tokens)",
            row("its matrix products only (baseline)", base),
            row("embed the texts a grade embeds (onnx)", full, base)]
