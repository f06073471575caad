"""Ask the guide: retrieve, answer from the passages with numbered citations, drop what they don't support.

The answer starts as an extract (the passage sentences closest to the question, each cited), so
it is grounded by construction; a chat model may rephrase it, and every sentence it writes is
checked against the cited passages and dropped when none supports it. A grounded extract beats a
fluent invention.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from coach.text import sentences, stems

if TYPE_CHECKING:  # pragma: no cover
    from coach.search.embeddings import LocalEmbeddings
    from coach.llm.phrasing import Phraser
    from coach.search.retrieval import Hit, HybridSearcher

_CITE = re.compile(r"\[(\d+)\]")
_SIDE_HEADINGS = ("What interviewers probe", "Common mistakes", "Related sections")


@dataclass
class AskCitation:
    n: int
    section_id: str
    title: str
    heading: str
    topic: str
    source: str
    text: str


@dataclass
class AskResult:
    question: str
    answer: str
    citations: list[AskCitation]
    grounded: bool           # every sentence of the answer is supported by a cited passage
    covered: bool            # False: the guide does not cover the question
    dropped: list[str] = field(default_factory=list)  # model sentences removed as unsupported
    nearest: list[str] = field(default_factory=list)  # sections offered when not covered
    used_model: bool = False

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: data[k] for k in ("answer", "citations", "grounded", "covered", "dropped", "nearest", "used_model")}


_NOISE = re.compile(r"^\s*(\||#|```)")
_LEAD = re.compile(r"^(\d+[.)]\s+|(interview )?prompt:\s*)", re.I)


def _body(hit: "Hit") -> str:
    """Prose of a chunk: no heading path, table rows, headings or code fences."""
    text = hit.text.split("\n\n", 1)[-1]
    return "\n".join(line for line in text.splitlines() if not _NOISE.match(line))


def _clean(sentence: str) -> str:
    return _LEAD.sub("", " ".join(sentence.replace("**", "").replace("`", "").split()))


class GuideAnswerer:
    """Answers questions from the guide with citations; UI-free and deterministic without an LLM."""

    def __init__(self, searcher: "HybridSearcher", embeddings: "LocalEmbeddings", min_similarity: float,
                 lexical_floor: float = 0.20, min_term_coverage: float = 0.60,
                 phraser_factory: Callable[[], "Phraser | None"] = lambda: None,
                 support_threshold: float = 0.55, passages: int = 4, extract_sentences: int = 3) -> None:
        self.searcher = searcher
        self.embeddings = embeddings
        self.min_similarity = min_similarity
        self.lexical_floor = lexical_floor
        self.min_term_coverage = min_term_coverage
        self._phraser_factory = phraser_factory
        self.support_threshold = support_threshold
        self.passages = passages
        self.extract_sentences = extract_sentences

    def ask(self, question: str, topic: str | None = None) -> AskResult:
        return self._finish(*self._prepare(question, topic))

    def covers(self, question: str, hits: list["Hit"]) -> bool:
        """Does the guide answer this? Close in meaning, or nearly all its rare terms in one passage."""
        best = max((h.similarity for h in hits), default=-1.0)
        if best >= self.min_similarity:
            return True
        return best >= self.lexical_floor and self.searcher.term_coverage(question, hits[:5]) >= self.min_term_coverage

    # ------------------------------------------------------------------ internals
    def _prepare(self, question: str, topic: str | None):
        hits = self.searcher.search(question, k=max(self.passages * 2, 8), topic=topic)
        if not self.covers(question, hits):
            return question, None, hits
        floor = min(self.lexical_floor, max(h.similarity for h in hits))
        chosen: list["Hit"] = []
        for hit in hits:  # fused rank order: dense and BM25 agree best at the top
            if len(chosen) < self.passages and hit.similarity >= floor:
                chosen.append(hit)
        return question, chosen, hits

    def _finish(self, question: str, chosen: list["Hit"] | None, hits: list["Hit"]) -> AskResult:
        if not chosen:
            nearest = []
            for h in hits:
                label = f"{h.title} ({h.section_id})"
                if label not in nearest:
                    nearest.append(label)
            text = ("The guide does not cover that question. "
                    + (f"The nearest sections are: {'; '.join(nearest[:3])}." if nearest else ""))
            return AskResult(question=question, answer=text, citations=[], grounded=True, covered=False,
                             nearest=nearest[:3])
        citations = [AskCitation(n=i + 1, section_id=h.section_id, title=h.title, heading=h.heading, topic=h.topic,
                                 source=h.source, text=_body(h)) for i, h in enumerate(chosen)]
        units = [(c.n, _clean(s)) for c in citations for s in sentences(c.text)
                 if len(s.split()) >= 6]
        unit_vecs = self.embeddings.encode([u[1] for u in units] + [question])
        q_vec, unit_vecs = unit_vecs[-1], unit_vecs[:-1]
        # Interview prompts and lists of mistakes read oddly out of context: support only, never the extract.
        side = {c.n for c in citations if c.heading.endswith(_SIDE_HEADINGS)}
        q_stems = set(stems(question))
        lexical = np.array([len(q_stems & set(stems(u))) / max(1, len(q_stems)) for _, u in units])
        relevance = unit_vecs @ q_vec + 0.3 * lexical - np.array([1.0 if n in side else 0.0 for n, _ in units])
        order = np.argsort(-relevance)[: self.extract_sentences]
        extract = " ".join(f"{units[i][1]} [{units[i][0]}]" for i in sorted(order, key=lambda i: (units[i][0], i)))
        phraser = self._phraser_factory()
        if phraser is None:
            return AskResult(question=question, answer=extract, citations=citations, grounded=True, covered=True)
        # The embedded model reads ~300 prompt tokens/s: the prompt gets the top three passages, shortened.
        passages = "\n".join(f"[{c.n}] {' '.join(c.text.split())[:280]}" for c in citations[:3])
        written = phraser.text("ask_answer", extract, reference=" ".join(c.text for c in citations),
                               question=question, passages=passages)
        if phraser.last_fallback:
            return AskResult(question=question, answer=extract, citations=citations, grounded=True, covered=True)
        kept, dropped = self._supported(written, units, unit_vecs)
        if not kept:
            return AskResult(question=question, answer=extract, citations=citations, grounded=True, covered=True,
                             dropped=dropped)
        return AskResult(question=question, answer=" ".join(kept), citations=citations, grounded=True, covered=True,
                         dropped=dropped, used_model=True)

    def _supported(self, text: str, units: list[tuple[int, str]], unit_vecs: np.ndarray) -> tuple[list[str], list[str]]:
        """Split the model's answer into sentences; keep those a passage supports, citing that passage.

        Supported means: close in meaning to one passage sentence, or most of its content words
        appear in one passage (paraphrases that merge two sentences of the same passage).
        """
        kept, dropped = [], []
        candidates = [s for s in sentences(text) if len(s.split()) >= 3]
        if not candidates:
            return kept, dropped
        vecs = self.embeddings.encode([_CITE.sub("", s) for s in candidates])
        sims = vecs @ unit_vecs.T
        passage_stems: dict[int, set[str]] = {}
        for n, unit in units:
            passage_stems.setdefault(n, set()).update(stems(unit))
        for i, sentence in enumerate(candidates):
            plain = _CITE.sub("", sentence).strip()
            own = set(stems(plain))
            best = int(np.argmax(sims[i]))
            overlaps = {n: len(own & ps) / max(1, len(own)) for n, ps in passage_stems.items()}
            best_passage = max(overlaps, key=overlaps.get)
            if sims[i, best] >= self.support_threshold:
                kept.append(f"{plain} [{units[best][0]}]")
            elif overlaps[best_passage] >= 0.6:
                kept.append(f"{plain} [{best_passage}]")
            else:
                dropped.append(sentence)
        return kept, dropped
