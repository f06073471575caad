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

HIDDEN, FFN, LAYERS = 384, 1536, 6  # all-MiniLM-L6-v2
FLOPS_PER_TOKEN = 2 * LAYERS * (4 * HIDDEN * HIDDEN + 2 * HIDDEN * FFN)  # Q, K, V, output; feed-forward up, down


def _matmul_only_session():
    """An onnxruntime session running only the encoder's fp32 matrix products on [tokens, HIDDEN]."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from coach.search.onnx_model import session_options

    rng = np.random.default_rng(0)
    nodes, weights, side_outputs, current = [], [], [], "x"
    for layer in range(LAYERS):
        for name, (k, n) in {"q": (HIDDEN, HIDDEN), "k": (HIDDEN, HIDDEN), "v": (HIDDEN, HIDDEN),
                             "o": (HIDDEN, HIDDEN), "up": (HIDDEN, FFN), "down": (FFN, HIDDEN)}.items():
            w = f"w{layer}{name}"
            weights.append(numpy_helper.from_array((rng.standard_normal((k, n)) * 0.05).astype(np.float32), w))
            nodes.append(helper.make_node("MatMul", [current, w], [f"{w}out"]))
            if name in ("q", "k", "v"):  # read by attention, not by the next product: kept as outputs
                side_outputs.append(f"{w}out")
            else:
                current = f"{w}out"
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in (current, *side_outputs)]
    graph = helper.make_graph(nodes, "matmuls", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["t", HIDDEN])],
                              outputs, weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return ort.InferenceSession(model.SerializeToString(), session_options(), providers=["CPUExecutionProvider"])


class _RunRecorder:
    """Stands in for the encoder's onnxruntime session and notes the (rows, tokens) of every run."""

    def __init__(self, session, shapes: list[tuple[int, int]]) -> None:  # noqa: ANN001
        self.session, self.shapes = session, shapes

    def run(self, outputs, feed):  # noqa: ANN001
        self.shapes.append(tuple(feed["input_ids"].shape))
        return self.session.run(outputs, feed)


def grade_batches(coach, answers: list[dict]) -> list[tuple[list[str], list[tuple[int, int]]]]:
    """Per labelled answer: the texts its grade embeds (sentences, clauses) and the padded
    (rows, tokens) of the encoder runs that embed them, both read off the encoder as it grades."""
    encoder = coach.embeddings._load()
    grader = coach.grader
    texts: list[str] = []
    shapes: list[tuple[int, int]] = []
    inner, session = encoder.encode, encoder.session

    def spy(batch, batch_size=32):  # noqa: ANN001
        texts.extend(batch)
        return inner(batch, batch_size)

    encoder.encode, encoder.session = spy, _RunRecorder(session, shapes)
    try:
        per_answer = []
        for a in answers:
            grader.sentence_vectors.clear()
            texts.clear()
            shapes.clear()
            grader.grade(a["question_id"], a["answer"])
            per_answer.append((list(texts), list(shapes)))
    finally:
        del encoder.encode  # back to the class's method
        encoder.session = session
    return per_answer


def encoder_bound(coach, answers: list[dict]) -> list[str]:
    """Rows: per labelled answer, the matrix products of its grade's padded tokens (baseline) and
    the whole embedding of the same texts, as the grader batches them."""
    if getattr(coach.embeddings._load(), "session", None) is None:  # the torch backend: nothing to compare here
        return []
    batches = grade_batches(coach, answers)
    matmuls = _matmul_only_session()
    rng = np.random.default_rng(1)
    inputs = [[rng.standard_normal((rows * width, HIDDEN)).astype(np.float32) for rows, width in shapes]
              for _, shapes in batches]
    tokens = [sum(len(x) for x in runs) for runs in inputs]
    # One session at a time: onnxruntime's threads spin after a run, and two sessions interleaved
    # would slow each other down on two cores. The first pass warms both up for these shapes.
    for _ in range(2):
        base = [timed(lambda runs=runs: [matmuls.run(None, {"x": x}) for x in runs], 1)[0] for runs in inputs]
    for _ in range(2):
        full = [timed(lambda texts=texts: coach.embeddings.encode(texts), 1)[0] for texts, _ in batches]
    rate = FLOPS_PER_TOKEN * sum(tokens) / (sum(base) / 1000) / 1e9
    return [f"== a grade's embedding against its own matrix products (fp32 {rate:.0f} GFLOP/s here; "
            f"median {int(np.median(tokens))} padded tokens)",
            row("its matrix products only (baseline)", base),
            row("embed the texts a grade embeds (onnx)", full, base)]
