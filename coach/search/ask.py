"""Ask the guide: retrieve, answer from the passages with numbered citations, drop what they don't support.

The answer is composed for the question's shape (definition, comparison, how-to, when/why,
numbers, mistakes; :mod:`coach.search.answer_shapes`) from whole guide sentences, each cited, so
it is grounded by construction. The quotable units of a passage are its sentences (a short bold
label leading the sentence it labels) and the rows of its tables, one statement per row; the
sentences of up to eight passages compete (:mod:`coach.search.compose`), and only the passages
the answer quotes are cited. A capable chat model (``ollama`` / ``openai``) may write the
answer from the passages instead; every sentence it writes is checked against them and dropped
when none supports it, and the extract stands when too little remains. The embedded 135M model
does not write Ask prose by default (``llm.ask_prose: auto``): it invented sentences too often.
A follow-up ("and how do I alert on it?") is searched together with the previous question.
"""

from __future__ import annotations

import re
from itertools import groupby
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from coach.content.guide import quick_question
from coach.search.answer_shapes import comparison_sides, is_follow_up, question_shape, render
from coach.search.compose import Passage, Picker, Units, compose, names_side, pick_sides, quick_lead, relevance
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


_NOISE = re.compile(r"^\s*(#|```|>)")
_LEAD = re.compile(r"^(\d+[.)]\s+|[-*•]\s+|(interview )?prompt:\s*)", re.I)
_SECTION_ID = re.compile(r"\b(lc|infra|dp|mon|arch)-[a-z0-9]+(-[a-z0-9]+)*\b")
_SHORT_LABEL = re.compile(r"^(\s*(?:[-*•]|\d+[.)])?\s*)\*\*((?:[^*:.\s]+ ?){1,4}?)[.:]\*\*[ \t]*", re.M)
_BOLD_LEAD = re.compile(r"^\s*(?:[-*•]\s+)?\*\*([^*]{1,80}?)[.:]\*\*\s*")  # "**Staged rollout.** Shadow" -> "Staged rollout: Shadow"


def _body(hit: "Hit") -> str:
    """Prose and tables of a chunk: no heading path, headings, code fences or quotes."""
    text = hit.text.split("\n\n", 1)[-1]
    return "\n".join(line for line in text.splitlines() if not _NOISE.match(line))


def clean_sentence(sentence: str) -> str:
    """A guide sentence as a learner reads it: no list marker, bold, backticks; capitalised."""
    text = _LEAD.sub("", " ".join(_BOLD_LEAD.sub(r"\1: ", sentence).replace("**", "").replace("__", "").replace("`", "").split()))
    return text[:1].upper() + text[1:]


def _whole(sentence: str) -> bool:
    """A sentence a learner can read alone: capitalised, ends like a sentence, no ids, cut-off words
    or diagram source."""
    short_definition = ":" in sentence and len(sentence.split()) >= 4  # "Concept drift: P(Y|X) moves."
    return ((len(sentence.split()) >= 6 or short_definition) and sentence[:1].isupper() and sentence.rstrip()[-1:] in ".!"
            and not _SECTION_ID.search(sentence) and sentence.count("(") == sentence.count(")")
            and "](" not in sentence and "-->" not in sentence)


def _passage_sentences(text: str) -> list[str]:
    """The sentences of one passage. A short bold label ("**Offline store.** A warehouse ...") leads
    the sentence after it ("Offline store: A warehouse ..."), which would otherwise lose the term it
    defines; a longer one ("**Covariate shift: P(X) moves.** The inputs ...") is a sentence of its
    own. A chunk that starts mid-sentence (the overlap with the chunk before) drops that fragment."""
    out: list[str] = []
    for is_table, block in groupby(text.splitlines(), key=lambda line: line.lstrip().startswith("|")):
        lines = list(block)
        if is_table:
            out += table_rows(lines)
        else:
            prose = "\n".join(lines)
            parts = sentences(_SHORT_LABEL.sub(r"\1\2: ", prose).replace("**", ""))
            out += parts[1:] if not out and prose[:1].islower() else parts
    return out


def table_rows(lines: list[str]) -> list[str]:
    """Each row of a Markdown table as one statement: "CUSUM — Watches: mean vs. a baseline; Strength: fast."
    (the first cell names the row, the header names each other cell; a table cut from its header by
    chunking gives its cells alone)."""
    rows = [[c.strip().replace("**", "").replace("`", "") for c in line.strip().strip("|").split("|")]
            for line in lines]
    header: list[str] = []
    if len(rows) >= 2 and all(set(c) <= set("-: ") for c in rows[1]):
        header, rows = rows[0], rows[2:]
    out = []
    for cells in rows:
        if len(cells) < 2 or not cells[0] or all(set(c) <= set("-: ") for c in cells):
            continue
        names = header[1:] if len(header) == len(cells) else [""] * (len(cells) - 1)
        body = "; ".join(f"{h}: {c}" if h else c for h, c in zip(names, cells[1:]) if c)
        if body:
            out.append(f"{cells[0]} — {body}".rstrip(".") + ".")
    return out


def passage_units(citations: list[AskCitation]) -> list[tuple[int, str]]:
    """(citation number, sentence) for every whole sentence of the cited passages: what Ask quotes,
    and what it (and the evals) check a written sentence against."""
    return [(n, text) for n, text, _ in _numbered_units(citations)]


def _numbered_units(citations: list[AskCitation]) -> list[tuple[int, str, int]]:
    """The units of :func:`passage_units` with each one's position among its passage's sentences."""
    units = [(c.n, clean_sentence(s), pos) for c in citations for pos, s in enumerate(_passage_sentences(c.text))]
    return [u for u in units if _whole(u[1])]


def sentence_before(numbered: list[tuple[int, str, int]]) -> list[int | None]:
    """For each unit, the unit that is the sentence right before it in the same passage (or None)."""
    return [i - 1 if i and numbered[i - 1][0] == n and numbered[i - 1][2] == pos - 1 else None
            for i, (n, _, pos) in enumerate(numbered)]


class GuideAnswerer:
    """Answers questions from the guide with citations; UI-free and deterministic without an LLM."""

    def __init__(self, searcher: "HybridSearcher", embeddings: "LocalEmbeddings", min_similarity: float,
                 lexical_floor: float = 0.20, min_term_coverage: float = 0.60,
                 phraser_factory: Callable[[], "Phraser | None"] = lambda: None,
                 support_threshold: float = 0.55, passages: int = 4, pool: int = 8) -> None:
        self.searcher = searcher
        self.embeddings = embeddings
        self.min_similarity = min_similarity
        self.lexical_floor = lexical_floor
        self.min_term_coverage = min_term_coverage
        self._phraser_factory = phraser_factory
        self.support_threshold = support_threshold
        self.passages = passages
        self.pool = pool  # passages whose sentences compete; only those the answer quotes are cited
        self._vec_cache: dict[str, np.ndarray] = {}

    def ask(self, question: str, topic: str | None = None, previous: str | None = None) -> AskResult:
        """Answer ``question``; ``previous`` (the learner's last question) gives a follow-up its subject."""
        query = f"{previous} {question}" if previous and is_follow_up(question) else question
        chosen, hits, side_passages = self._prepare(query, topic)
        return self._finish(question, chosen, hits, side_passages)

    def covers(self, question: str, hits: list["Hit"]) -> bool:
        """Does the guide answer this? Close in meaning, or nearly all its rare terms in one passage.

        Read on the teaching text: a quick answer is short and dense with its section's terms, so
        one comes close to questions the guide does not answer ("time complexity of quicksort")."""
        hits = [h for h in hits if not quick_question(h.heading)] or hits
        best = max((h.similarity for h in hits), default=-1.0)
        if best >= self.min_similarity:
            return True
        return best >= self.lexical_floor and self.searcher.term_coverage(question, hits[:5]) >= self.min_term_coverage

    # ------------------------------------------------------------------ internals
    def _prepare(self, question: str, topic: str | None
                 ) -> tuple[list["Hit"] | None, list["Hit"], dict[str, int]]:
        """(passages to answer from, all hits, compared side -> citation number of its own passage)."""
        hits = self.searcher.search(question, k=max(self.pool, 8), topic=topic)
        if not self.covers(question, hits):
            return None, hits, {}
        floor = min(self.lexical_floor, max(h.similarity for h in hits))
        chosen: list["Hit"] = []
        # A comparison answers each side from that side's own passage: search each side by itself first.
        sides = comparison_sides(question) if question_shape(question) == "comparison" else []
        side_passages: dict[str, int] = {}
        for side in sides:
            side_stems = stems(side)
            own = [h for h in self.searcher.search(side, k=5, topic=topic) + hits
                   if h.similarity >= floor and all(h.text != c.text for c in chosen)]
            if own:  # the passage that names and defines this side, not a list of mistakes that names it
                chosen.append(max(own, key=lambda h: h.similarity + names_side(side_stems, set(stems(h.text)))
                                  + (0.3 if f"{side.lower()}:" in h.text.lower().replace("**", "") else 0.0)
                                  - (0.3 if h.heading.endswith(_SIDE_HEADINGS) else 0.0)))
                side_passages[side] = len(chosen)  # its citation number
        limit = max(self.pool, len(chosen) + 1)
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
        numbered = _numbered_units(citations)
        units = [(n, text) for n, text, _ in numbered]
        if not units:  # passages that are all tables or lists: cite them, say so
            extract = "The guide covers this in the sections cited below; open them for the details."
            return AskResult(question=question, answer=extract, citations=citations[: self.passages], grounded=True,
                             covered=True)
        passages = {c.n: Passage(h.similarity, set(stems(h.heading)), c.heading.endswith(_SIDE_HEADINGS),
                                 asks=quick_question(h.heading))
                    for c, h in zip(citations, chosen)}
        extract, unit_vecs = self._compose(question, units, side_passages, passages, sentence_before(numbered))
        phraser = self._phraser_factory()
        if phraser is None:
            return self._cited(question, extract, citations)
        # The embedded model reads ~300 prompt tokens/s: the prompt gets the top three passages, shortened.
        passages = "\n".join(f"[{c.n}] {' '.join(c.text.split())[:280]}" for c in citations[:3])
        written = phraser.text("ask_answer", extract, reference=" ".join(c.text for c in citations),
                               question=question, passages=passages)
        if phraser.last_fallback:
            return self._cited(question, extract, citations)
        kept, dropped = self._supported(written, units, unit_vecs)
        if not kept or len(kept) < len(dropped):  # too little of what the model wrote holds up
            return self._cited(question, extract, citations, dropped=dropped)
        return self._cited(question, " ".join(kept), citations, dropped=dropped, used_model=True)

    @staticmethod
    def _cited(question: str, answer: str, citations: list[AskCitation], **extra: Any) -> AskResult:
        """The result citing only the passages the answer quotes, numbered in the order it first cites them."""
        order: dict[int, int] = {}
        for m in _CITE.finditer(answer):
            order.setdefault(int(m.group(1)), len(order) + 1)
        answer = _CITE.sub(lambda m: f"[{order.get(int(m.group(1)), m.group(1))}]", answer)
        by_n = {c.n: c for c in citations}
        cited = [replace(by_n[old], n=new) for old, new in order.items() if old in by_n]
        return AskResult(question=question, answer=answer, citations=cited, grounded=True, covered=True, **extra)

    def _vectors(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts``; guide sentences recur across questions, so theirs are kept."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vec_cache]
        if missing:
            if len(self._vec_cache) > 50_000:
                self._vec_cache.clear()
            self._vec_cache.update(zip(missing, self.embeddings.encode(missing)))
        return np.stack([self._vec_cache[t] for t in texts])

    def _compose(self, question: str, units: list[tuple[int, str]], side_passages: dict[str, int],
                 passages: dict[int, Passage], before: list[int | None]) -> tuple[str, np.ndarray]:
        """The answer for the question's shape, from whole cited sentences; also the sentences' vectors.
        A quick answer leads when its question is close to the learner's own words (a follow-up's
        too: "and how do I alert on it?" is not the earlier question about PSI bands)."""
        shape = question_shape(question)
        sides = comparison_sides(question) if shape == "comparison" else []
        unit_vecs = self._vectors([u[1] for u in units])
        asked = self.embeddings.encode([question] + sides)
        q_vec, side_vecs = asked[0], asked[1:]
        cands = Units(cites=[n for n, _ in units], texts=[u for _, u in units], vecs=unit_vecs,
                      stems=[set(stems(u)) for _, u in units], before=before)
        rel = relevance(question, shape, cands, q_vec, self.searcher.term_weights(question), passages)
        picker = Picker(cands)
        asks = {n: p.asks for n, p in passages.items() if p.asks and n in cands.cites}
        lead_n = quick_lead(asks, self._vectors(list(asks.values())), q_vec) if asks else None
        lead = picker.take_passage(lead_n) if lead_n is not None else []
        picked_sides = pick_sides(picker, sides, side_vecs, [stems(s) for s in sides], rel, side_passages)
        direct, support = compose(shape, cands, rel, picked_sides, picker, lead=lead)
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
