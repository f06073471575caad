"""What a candidate's turn is: "done", a clarifying question, or an answer; and the context
sentences that answer a clarifying question."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from coach.text import sentences, stems, words

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.questions import Question
    from coach.search.embeddings import LocalEmbeddings

DONE_WORDS = {"done", "i'm done", "im done", "i am done", "finish", "finished", "end", "/done", "that's all",
              "thats all", "critique", "grade me"}
_QUESTION_START = re.compile(
    r"^(what|how|is|are|do|does|can|could|should|would|will|which|who|where|when|may|am i|any)\b", re.I)
# What a clarifying question asks about, and the unit of the context sentence that answers it.
_ASKED_UNITS = [
    (set(stems("latency respond response millisecond deadline sla timeout")),
     re.compile(r"\d\s*(ms|milliseconds?|seconds?|s)\b|\bp9\d", re.I)),
    (set(stems("traffic volume qps rps throughput scale load requests peak how many users")),
     re.compile(r"\d\s*[KMB]?\s*(/s|/day|per (second|day|month)|a (day|month|second))|\bQPS\b", re.I)),
    (set(stems("label labels feedback arrive arrival delay lag ground truth")),
     re.compile(r"\d+\s*(-\s*\d+\s*)?(hours?|days?|weeks?|months?)\b", re.I)),
]
NOT_SPECIFIED = "That isn't specified; make a reasonable assumption, say it out loud, and carry on."


def is_done(text: str) -> bool:
    return text.strip().lower().strip(".! ") in DONE_WORDS


def is_clarifying_question(text: str) -> bool:
    """A short question about the problem (scale, constraints), not part of the answer."""
    stripped = text.strip()
    n = len(words(stripped))
    return 0 < n <= 35 and (stripped.endswith("?") and (n <= 25 or _QUESTION_START.match(stripped) is not None))


def context_facts(embeddings: "LocalEmbeddings", question: "Question", asked: str, limit: int = 2) -> list[str]:
    """The context sentences that answer a clarifying question (empty when none is close).

    Similarity plus shared words, plus the unit the question asks about: a question about
    latency wants the sentence with milliseconds, one about scale the sentence with a rate,
    which the small embedding model often ranks below a sentence that merely shares a noun.
    Only facts close to the best one are given, so an answer is not padded with unrelated ones.
    """
    facts = sentences(question.context)
    if not facts:
        return []
    vecs = embeddings.encode(facts + [asked])
    sims = vecs[:-1] @ vecs[-1]
    asked_stems = set(stems(asked))
    wanted = [unit for words_, unit in _ASKED_UNITS if asked_stems & words_]
    scored = []
    for fact, sim in zip(facts, sims):
        overlap = len(asked_stems & set(stems(fact))) / max(1, len(asked_stems))
        unit = 0.3 if any(u.search(fact) for u in wanted) else 0.0
        scored.append((float(sim) + 0.3 * overlap + unit, fact))
    scored.sort(key=lambda t: -t[0])
    best = scored[0][0]
    return [f for s, f in scored[:limit] if s >= 0.35 and s >= best - 0.12]
