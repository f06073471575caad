"""Ask the guide: retrieve, answer from the passages with numbered citations, drop what they don't support.

The answer is composed for the question's shape (definition, comparison, how-to, when/why,
numbers, mistakes; :mod:`coach.search.answer_shapes`) from whole guide sentences, each cited, so
it is grounded by construction. A capable chat model (``ollama`` / ``openai``) may write the
answer from the passages instead; every sentence it writes is checked against them and dropped
when none supports it, and the extract stands when too little remains. The embedded 135M model
does not write Ask prose by default (``llm.ask_prose: auto``): it invented sentences too often.
A follow-up ("and how do I alert on it?") is searched together with the previous question.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from coach.search.answer_shapes import Picked, comparison_sides, is_follow_up, question_shape, render, shape_bonus
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


_NOISE = re.compile(r"^\s*(\||#|```|>)")
_LEAD = re.compile(r"^(\d+[.)]\s+|[-*•]\s+|(interview )?prompt:\s*)", re.I)
_SECTION_ID = re.compile(r"\b(lc|infra|dp|mon|arch)-[a-z0-9]+(-[a-z0-9]+)*\b")
_BOLD_LEAD = re.compile(r"^\s*(?:[-*•]\s+)?\*\*([^*]{1,80}?)[.:]\*\*\s*")  # "**Staged rollout.** Shadow" -> "Staged rollout: Shadow"


def _body(hit: "Hit") -> str:
    """Prose of a chunk: no heading path, table rows, headings or code fences."""
    text = hit.text.split("\n\n", 1)[-1]
    return "\n".join(line for line in text.splitlines() if not _NOISE.match(line))


def clean_sentence(sentence: str) -> str:
    """A guide sentence as a learner reads it: no list marker, bold, backticks; capitalised."""
    text = _LEAD.sub("", " ".join(_BOLD_LEAD.sub(r"\1: ", sentence).replace("**", "").replace("__", "").replace("`", "").split()))
    return text[:1].upper() + text[1:]


def _whole(sentence: str) -> bool:
    """A sentence a learner can read alone: capitalised, ends like a sentence, no ids or cut-off words."""
    short_definition = ":" in sentence and len(sentence.split()) >= 4  # "Concept drift: P(Y|X) moves."
    return ((len(sentence.split()) >= 6 or short_definition) and sentence[:1].isupper() and sentence.rstrip()[-1:] in ".!"
            and not _SECTION_ID.search(sentence) and sentence.count("(") == sentence.count(")")
            and "](" not in sentence)


def passage_units(citations: list[AskCitation]) -> list[tuple[int, str]]:
    """(citation number, sentence) for every whole sentence of the cited passages: what Ask quotes,
    and what it (and the evals) check a written sentence against."""
    # Bold labels ("**Covariate shift: P(X) moves.** The inputs ...") end sentences of their own.
    units = [(c.n, clean_sentence(s)) for c in citations for s in sentences(c.text.replace("**", ""))]
    return [u for u in units if _whole(u[1])]


class GuideAnswerer:
    """Answers questions from the guide with citations; UI-free and deterministic without an LLM."""

    def __init__(self, searcher: "HybridSearcher", embeddings: "LocalEmbeddings", min_similarity: float,
                 lexical_floor: float = 0.20, min_term_coverage: float = 0.60,
                 phraser_factory: Callable[[], "Phraser | None"] = lambda: None,
                 support_threshold: float = 0.55, passages: int = 4) -> None:
        self.searcher = searcher
        self.embeddings = embeddings
        self.min_similarity = min_similarity
        self.lexical_floor = lexical_floor
        self.min_term_coverage = min_term_coverage
        self._phraser_factory = phraser_factory
        self.support_threshold = support_threshold
        self.passages = passages

    def ask(self, question: str, topic: str | None = None, previous: str | None = None) -> AskResult:
        """Answer ``question``; ``previous`` (the learner's last question) gives a follow-up its subject."""
        query = f"{previous} {question}" if previous and is_follow_up(question) else question
        chosen, hits, side_passages = self._prepare(query, topic)
        return self._finish(question, chosen, hits, side_passages)

    def covers(self, question: str, hits: list["Hit"]) -> bool:
        """Does the guide answer this? Close in meaning, or nearly all its rare terms in one passage."""
        best = max((h.similarity for h in hits), default=-1.0)
        if best >= self.min_similarity:
            return True
        return best >= self.lexical_floor and self.searcher.term_coverage(question, hits[:5]) >= self.min_term_coverage

    # ------------------------------------------------------------------ internals
    def _prepare(self, question: str, topic: str | None
                 ) -> tuple[list["Hit"] | None, list["Hit"], dict[str, int]]:
        """(passages to answer from, all hits, compared side -> citation number of its own passage)."""
        hits = self.searcher.search(question, k=max(self.passages * 2, 8), topic=topic)
        if not self.covers(question, hits):
            return None, hits, {}
        floor = min(self.lexical_floor, max(h.similarity for h in hits))
        chosen: list["Hit"] = []
        # A comparison answers each side from that side's own passage: search each side by itself first.
        sides = comparison_sides(question) if question_shape(question) == "comparison" else []
        side_passages: dict[str, int] = {}
        for side in sides:
            own = [h for h in self.searcher.search(side, k=5, topic=topic)
                   if h.similarity >= floor and all(h.text != c.text for c in chosen)]
            if own:  # the passage that defines this side, not a list of mistakes that names it
                chosen.append(max(own, key=lambda h: h.similarity + (0.3 if f"{side.lower()}:" in h.text.lower()
                                                                     .replace("**", "") else 0.0)
                                  - (0.3 if h.heading.endswith(_SIDE_HEADINGS) else 0.0)))
                side_passages[side] = len(chosen)  # its citation number
        limit = max(self.passages, len(chosen) + 1)
        for hit in hits:  # fused rank order: dense and BM25 agree best at the top
            if len(chosen) < limit and hit.similarity >= floor and all(h.text != hit.text for h in chosen):
                chosen.append(hit)
        return chosen, hits, side_passages

    def _finish(self, question: str, chosen: list["Hit"] | None, hits: list["Hit"],
                side_passages: dict[str, int]) -> AskResult:
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
        units = passage_units(citations)
        if not units:  # passages that are all tables or lists: cite them, say so
            extract = "The guide covers this in the sections cited below; open them for the details."
            return AskResult(question=question, answer=extract, citations=citations, grounded=True, covered=True)
        extract, unit_vecs = self._compose(question, citations, units, side_passages)
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
        if not kept or len(kept) < len(dropped):  # too little of what the model wrote holds up
            return AskResult(question=question, answer=extract, citations=citations, grounded=True, covered=True,
                             dropped=dropped)
        return AskResult(question=question, answer=" ".join(kept), citations=citations, grounded=True, covered=True,
                         dropped=dropped, used_model=True)

    def _compose(self, question: str, citations: list[AskCitation], units: list[tuple[int, str]],
                 side_passages: dict[str, int]) -> tuple[str, np.ndarray]:
        """The answer for the question's shape, from whole cited sentences; also the sentences' vectors."""
        shape = question_shape(question)
        sides = comparison_sides(question) if shape == "comparison" else []
        vecs = self.embeddings.encode([u[1] for u in units] + [question] + sides)
        unit_vecs, q_vec, side_vecs = vecs[: len(units)], vecs[len(units)], vecs[len(units) + 1:]
        side_lists = {c.n for c in citations if c.heading.endswith(_SIDE_HEADINGS)}
        penalty = 0.0 if shape == "mistakes" else 1.0  # probe and mistake lists only when mistakes are asked
        q_stems = set(stems(question))
        unit_stems = [set(stems(u)) for _, u in units]  # once: the sides below score the same sentences
        relevance = np.array([
            float(unit_vecs[i] @ q_vec) + 0.3 * len(q_stems & unit_stems[i]) / max(1, len(q_stems))
            + shape_bonus(shape, u) - (penalty if n in side_lists else 0.0)
            for i, (n, u) in enumerate(units)])
        used: list[int] = []

        def take(i: int) -> Picked:
            used.append(i)
            return Picked(n=units[i][0], text=units[i][1])

        def fresh(i: int) -> bool:
            return i not in used and all(float(unit_vecs[i] @ unit_vecs[j]) < 0.9 for j in used)

        picked_sides: dict[str, Picked] = {}
        for side, s_vec in zip(sides, side_vecs):
            s_stems = set(stems(side))
            own = side_passages.get(side)
            scored = [(float(unit_vecs[i] @ s_vec) + 0.5 * len(s_stems & unit_stems[i]) / max(1, len(s_stems))
                       + 0.3 * relevance[i] + shape_bonus("definition", u) - (penalty if n in side_lists else 0.0)
                       + (0.2 if n == own else 0.0), i)
                      for i, (n, u) in enumerate(units) if fresh(i)]
            if scored:
                picked_sides[side] = take(max(scored)[1])
        order = [i for i in np.argsort(-relevance) if relevance[i] > -0.5]
        direct: list[Picked] = []
        if not picked_sides:
            wanted = 1 if shape == "how-to" else 2
            for i in order:
                if len(direct) < wanted and fresh(i):
                    direct.append(take(i))
        rows: list[int] = []
        for i in order:
            if len(rows) < 4 and fresh(i):
                take(i)
                rows.append(i)
        if shape == "how-to":  # steps in the order the guide gives them
            rows.sort()
        support = [Picked(n=units[i][0], text=units[i][1]) for i in rows]
        return render(shape, direct, support, picked_sides), unit_vecs

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
