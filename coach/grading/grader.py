"""Rubric grading with a deterministic core: which key points an answer covers, with evidence.

For every rubric point the grader looks for the answer sentence that makes it: semantic
similarity (sentence vs. the point and its cue phrases) plus lexical evidence (cue phrases
present). Only sentences that reason count as evidence, so a bare list of the right terms earns
nothing; text that addresses the grader is removed first and reported as a red flag. No LLM is
involved, so the same answer always gets the same grade.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from coach.grading.answer_checks import is_reasoned, scan_answer, wordlike_share
from coach.grading.config import GradingConfig
from coach.errors import QueryError
from coach.content.questions import Question, QuestionBank
from coach.grading.guide_rubric import graded_against_note, rubric_for
from coach.grading.matching import (
    assign_evidence, assign_to_points, clauses, contains, cue_tuple, max_into_points, nearest_attempts, outline_sentences,
    promote_winners,
)
from coach.grading.stated import (
    AnswerUnits, References, misconception_distinctive, misconception_groups, red_flag_distinctive, red_flag_groups,
    stated_misconceptions, stated_red_flags,
)
from coach.grading.depth import level_of
from coach.grading.vector_cache import VectorCache
from coach.grading.results import (
    LISTING_FLAG, MANIPULATION_FLAG, FlagResult, GradeResult, MisconceptionResult, PointResult, clip,
)
from coach.text import clean_text, sentences, stems, words

if TYPE_CHECKING:  # pragma: no cover
    from coach.search.embeddings import LocalEmbeddings
    from coach.content.guide import Guide
    from coach.search.retrieval import HybridSearcher

MIN_QUESTION_CHARS = 10  # a bank prompt's own minimum (Question.prompt)
_BANK_ID = re.compile(r"[a-z]+-q\d+[a-z]?")


@dataclass(frozen=True)
class ResolvedQuestion:
    """A typed question and the rubric it is graded against."""

    question: Question   # a bank question, or a rubric composed for the typed text (id "guide:..." / "model:...")
    source: str          # "bank" | "guide" | "model"
    match_score: float   # similarity to the closest bank question (1.0 for a bank id)
    asked_as: str        # the question as the candidate typed it (a bank id: the bank's prompt)


@dataclass
class _Prepared:
    """Per-question vectors and stemmed cues, computed once and reused."""

    point_vecs: np.ndarray          # (points, dim)
    cue_vecs: np.ndarray            # (points, dim): the cue list as one phrase
    cue_stems: list[list[tuple[str, ...]]]
    prompt_vec: np.ndarray
    claims: References              # each misconception's claim, then its `says`
    flag_says: References           # each red flag's `says`
    flag_vecs: np.ndarray           # (red flags, dim): the flag texts
    correction_vecs: np.ndarray     # (misconceptions, dim)
    reference_vecs: np.ndarray      # (references, dim): outline sentences kept and the points' `says`
    reference_owner: np.ndarray     # (references,): the point each one makes
    reference_weight: np.ndarray    # (references,): what similarity to it counts
    says_vecs: np.ndarray           # (says, dim): every point's `says` (for the depth rule)
    says_owner: np.ndarray          # (says,): the point each one belongs to


def _closeness(prep: _Prepared, point: int, rows: dict[str, np.ndarray], evidence: str | None,
               following: str | None) -> tuple[float, float] | None:
    """How close the evidence and the sentence after it come to the point's `says` (None: it has none)."""
    if evidence is None:
        return None
    mine = prep.says_vecs[prep.says_owner == point]
    if not len(mine):
        return None

    def close(text: str | None) -> float:
        vec = rows.get(text) if text is not None else None
        return float((mine @ vec).max()) if vec is not None else 0.0

    return close(evidence), close(following)


class Grader:
    """Grades answers against bank questions (or a rubric built from the guide)."""

    def __init__(
        self,
        bank: QuestionBank,
        embeddings: "LocalEmbeddings",
        *,
        guide: "Guide | None" = None,
        searcher: "HybridSearcher | None" = None,
        config: GradingConfig | None = None,
        vocabulary: frozenset[str] | None = None,
        max_answer_chars: int = 12_000,
    ) -> None:
        self.bank = bank
        self.embeddings = embeddings
        self.guide = guide
        self.searcher = searcher
        self.config = config or GradingConfig()
        self._vocabulary = vocabulary
        self.max_answer_chars = max_answer_chars
        self._prepared: dict[str, _Prepared] = {}
        self.sentence_vectors = VectorCache(embeddings)  # a practice answer grows turn by turn
        self._lock = threading.Lock()
        # (question text, retrieved section ids) -> a model-drafted rubric, or None to compose one
        self.drafter: Callable[[str, list[str]], Question | None] | None = None

    # ----------------------------------------------------------------- preparation
    @cached_property
    def vocabulary(self) -> frozenset[str]:
        if self._vocabulary is not None:
            return self._vocabulary
        from coach.search.model_files import packaged_model_path

        path = (self.embeddings.model_path or packaged_model_path()) / "vocab.txt"
        if not path.is_file():
            return frozenset()
        return frozenset(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip().isalpha())

    def prepare(self, question: Question) -> _Prepared:
        with self._lock:
            cached = self._prepared.get(question.id)
        if cached is not None:
            return cached
        cfg = self.config
        claim_groups, says_groups = misconception_groups(question), red_flag_groups(question)
        point_says = [(j, k, t) for j, p in enumerate(question.rubric) for k, t in enumerate(p.says)] \
            if cfg.says_weight or cfg.depth_specific else []
        groups = [[p.text for p in question.rubric], [", ".join(p.cues) for p in question.rubric], [question.prompt],
                  [t for g in claim_groups for t in g], [f.text for f in question.red_flags],
                  [m.correction for m in question.misconceptions], [t for g in says_groups for t in g],
                  outline_sentences(question.model_answer), [t for _, _, t in point_says]]
        vecs = self.embeddings.encode([t for g in groups for t in g])  # one batch, split back per group
        (point_vecs, cue_vecs, prompt_vecs, claim_vecs, flag_vecs, correction_vecs, says_vecs, outline_vecs,
         point_says_vecs) = np.split(vecs, np.cumsum([len(g) for g in groups])[:-1])
        kept, owner = assign_to_points(outline_vecs @ point_vecs.T, cfg.outline_assign)
        says_owner = np.array([j for j, _, _ in point_says], dtype=int)
        evidence_says = point_says if cfg.says_weight else []  # the depth rule may read them without this
        prepared = _Prepared(
            point_vecs=point_vecs, cue_vecs=cue_vecs,
            cue_stems=[[cue_tuple(c) for c in p.cues] for p in question.rubric],
            prompt_vec=prompt_vecs[0], flag_vecs=flag_vecs, correction_vecs=correction_vecs,
            claims=References.build(claim_groups, claim_vecs, misconception_distinctive(question)),
            flag_says=References.build(says_groups, says_vecs, red_flag_distinctive(question)),
            reference_vecs=np.vstack([outline_vecs[kept], point_says_vecs[:len(evidence_says)]]),
            reference_owner=np.concatenate([owner, says_owner[:len(evidence_says)]]).astype(int),
            reference_weight=np.array([cfg.outline_weight] * len(kept) + [
                cfg.says_weight * (cfg.says_brief_share if k == 0 else 1.0) for _, k, _ in evidence_says]),
            says_vecs=point_says_vecs, says_owner=says_owner,
        )
        with self._lock:
            self._prepared[question.id] = prepared
        return prepared

    @cached_property
    def _prompt_matrix(self) -> tuple[list[str], np.ndarray]:
        """Two views of each bank question: its prompt, and its prompt with the context.

        An interviewer who asks in their own words usually describes the situation (the context:
        "one card payment in fifty gets no counts back") more than the bank's prompt does; on the
        held-out dev split the prompt alone matched 3 of 5 rephrased questions, either view all 5.
        """
        ids = list(self.bank.questions)
        texts = [t for i in ids for t in (self.bank.questions[i].prompt,
                                          f"{self.bank.questions[i].prompt} {self.bank.questions[i].context}")]
        return ids, self.embeddings.encode(texts) if texts else np.zeros((0, 384), dtype="float32")

    # ----------------------------------------------------------------- question matching
    def match_question(self, text: str) -> tuple[Question | None, float]:
        """Closest bank question to a free-text question, and the cosine similarity."""
        if text in self.bank.questions:
            return self.bank.questions[text], 1.0
        ids, matrix = self._prompt_matrix
        if not ids:
            return None, 0.0
        sims = (matrix @ self.embeddings.encode([text])[0]).reshape(len(ids), 2).max(axis=1)
        order = np.argsort(-sims)
        best = int(order[0])
        score = float(sims[best])
        runner_up = float(sims[order[1]]) if len(order) > 1 else 0.0
        cfg = self.config
        # An interviewer's own wording scores lower than the bank's, but one question still stands out.
        close = score >= cfg.match_threshold or (score >= cfg.match_floor and score - runner_up >= cfg.match_margin)
        return (self.bank.questions[ids[best]] if close else None), score

    def rubric_from_guide(self, text: str) -> Question:
        """A rubric for ``text`` from the guide sections that best answer it (drafted by a model if one may)."""
        if self.searcher is None or self.guide is None:
            raise QueryError("no bank question matches and the guide index is not available: run `coach ingest`")
        return rubric_for(text, self.searcher, self.guide, self.config.guide_sections,
                          self.config.guide_section_ratio, self.drafter)

    def resolve(self, text: str) -> ResolvedQuestion:
        """The rubric for a question as typed: a bank id, else the close bank question, else one
        composed from the guide's key points (or drafted by a capable model)."""
        text = " ".join(clean_text(text).split()) if isinstance(text, str) else ""
        if not text:
            raise QueryError("the question is empty")
        if text in self.bank.questions or _BANK_ID.fullmatch(text):  # an id the bank lacks is an error, not a question
            question = self.bank.get(text)
            return ResolvedQuestion(question, "bank", 1.0, question.prompt)
        if len(text) < MIN_QUESTION_CHARS:
            raise QueryError(f"the question {text!r} is too short to grade against: type it in full "
                             f"(at least {MIN_QUESTION_CHARS} characters) or give a bank id such as arch-q01")
        found, score = self.match_question(text)
        if found is not None:
            return ResolvedQuestion(found, "bank", score, text)
        composed = self.rubric_from_guide(text)
        return ResolvedQuestion(composed, "model" if composed.id.startswith("model:") else "guide", score, text)

    # ----------------------------------------------------------------- grading
    def grade(self, question: "Question | str | ResolvedQuestion", answer: str) -> GradeResult:
        """Grade ``answer``; ``question`` is a bank Question, a bank id, free text, or a resolved one."""
        if not isinstance(answer, str):
            raise QueryError("the answer must be text")
        answer = clean_text(answer)
        if len(answer) > self.max_answer_chars:
            raise QueryError(f"the answer is {len(answer):,} characters; the limit is {self.max_answer_chars:,} (session.max_answer_chars)")
        resolved = self.resolve(question) if isinstance(question, str) else question
        if isinstance(resolved, ResolvedQuestion):
            return self._grade(resolved.question, answer, resolved.source, resolved.match_score)
        return self._grade(resolved, answer, "bank", 1.0)

    def _grade(self, question: Question, answer: str, source: str, match_score: float) -> GradeResult:
        cfg = self.config
        prep = self.prepare(question)
        scan = scan_answer(answer)
        all_sentences = sentences(scan.clean)
        reasoned = [s for s in all_sentences if is_reasoned(s)]
        n_words = len(words(scan.clean))
        notes: list[str] = []

        # One batch: the reasoned sentences, their clauses, then (for misconceptions) the other sentences.
        owner, pieces = clauses(reasoned) if reasoned and cfg.clause_weight > 0 else ([], [])
        others = [s for s in all_sentences if s not in reasoned] if question.misconceptions or question.red_flags else []
        batch = reasoned + pieces + others
        all_vecs = self.sentence_vectors.encode(batch) if batch else np.zeros((0, prep.prompt_vec.shape[0]), dtype="float32")
        vecs = all_vecs[: len(reasoned)]
        sentence_vecs = np.vstack([vecs, all_vecs[len(reasoned) + len(pieces):]])
        units = AnswerUnits.build(reasoned + others, sentence_vecs, owner, pieces,
                                  all_vecs[len(reasoned):len(reasoned) + len(pieces)])
        wrong = stated_misconceptions(question, units, prep.claims, prep.correction_vecs, prep.point_vecs, cfg)
        flags = stated_red_flags(question, units, prep.flag_vecs, prep.flag_says, prep.point_vecs, cfg)
        flags += self._special_flags(reasoned + others, scan.injections, n_words)
        best = np.full(len(question.rubric), -1.0)
        nearest = np.full(len(question.rubric), -1, dtype=int)
        best_row = np.full(len(question.rubric), -1, dtype=int)
        top_similarity = 0.0
        if reasoned:
            semantic = self._semantic(vecs, prep)              # (sentences, points)
            if pieces:
                np.maximum.at(semantic, owner, self._semantic(all_vecs[len(reasoned):len(reasoned) + len(pieces)], prep)
                              * cfg.clause_weight)
            sentence_stems = [stems(s) for s in reasoned]
            stem_sets = [set(toks) for toks in sentence_stems]  # a cue with a word the sentence lacks is skipped
            lexical = np.zeros_like(semantic)
            for j, cues in enumerate(prep.cue_stems):
                for i, toks in enumerate(sentence_stems):
                    hits = sum(1 for c in cues if c and stem_sets[i].issuperset(c) and contains(toks, c))
                    lexical[i, j] = (cfg.cue_bonus_many if hits >= 3 else cfg.cue_bonus_more if hits == 2
                                     else cfg.cue_bonus_one if hits == 1 else 0.0)
            combined = semantic + lexical
            index = {p.id: j for j, p in enumerate(question.rubric)}
            for found in wrong:  # a sentence that states a misconception earns nothing for its point
                if found.evidence in reasoned:
                    combined[[i for i, r in enumerate(reasoned) if r == found.evidence], index[found.point]] = -1.0
            for flag in flags:  # nor does a sentence that states a red flag, for any point
                combined[[i for i, r in enumerate(reasoned) if r == flag.evidence], :] = -1.0
            nearest = nearest_attempts(combined, cfg.winner_floor or cfg.cover_threshold)
            if cfg.winner_floor > 0 and combined.shape[1] > 1:
                combined = promote_winners(combined, cfg.cover_threshold, cfg.winner_floor, cfg.winner_margin)
            best_row, best = assign_evidence(combined, cfg.cover_threshold, cfg.max_points_per_sentence)
            top_similarity = float(max(semantic.max(), float((vecs @ prep.prompt_vec).max())))

        gibberish = n_words > 0 and wordlike_share(scan.clean, self.vocabulary) < cfg.gibberish_share if self.vocabulary else False
        off_topic = bool(reasoned) and top_similarity < cfg.offtopic_similarity
        points: list[PointResult] = []
        rows = dict(zip(reasoned + others, sentence_vecs)) if batch else {}
        depth = cfg.depth_rule
        for j, point in enumerate(question.rubric):
            covered = bool(best[j] >= cfg.cover_threshold) and not gibberish and not off_topic
            evidence = reasoned[best_row[j]] if covered else None
            at = all_sentences.index(evidence) if evidence in all_sentences else -1
            following = all_sentences[at + 1] if 0 <= at < len(all_sentences) - 1 else None
            points.append(
                PointResult(
                    id=point.id, text=point.text, dimension=point.dimension, weight=point.weight, covered=covered,
                    evidence=evidence, strength=float(max(best[j], 0.0)),
                    level=level_of(evidence, following, _closeness(prep, j, rows, evidence, following), depth),
                    sections=list(point.sections),
                    closest=reasoned[nearest[j]] if not covered and nearest[j] >= 0 and not (gibberish or off_topic)
                    else None,
                )
            )

        total = question.total_weight
        raw = 100.0 * sum(p.weight * p.credit for p in points) / total if total else 0.0
        special = {MANIPULATION_FLAG: cfg.manipulation_penalty, LISTING_FLAG: cfg.listing_penalty}
        flagged = {f.evidence for f in flags}  # one sentence that is both a red flag and a misconception costs once
        penalty = min(cfg.max_penalty, sum(special.get(f.id, cfg.red_flag_penalty) for f in flags)
                      + cfg.red_flag_penalty * sum(1 for m in wrong if m.evidence not in flagged))
        score = int(round(max(0.0, raw - penalty)))

        if not answer.strip():
            notes.append("The answer is empty: write out how you would approach the question.")
        elif n_words < cfg.min_words:
            notes.append(f"The answer has {n_words} word(s): too short to show any reasoning. Explain what you would do and why.")
        elif gibberish:
            notes.append("The answer does not read as English prose, so nothing in it can be credited.")
        elif off_topic:
            notes.append("The answer does not address this question; nothing in it matches what the question asks.")
        elif not reasoned:
            notes.append("The answer lists terms without explaining them; only reasoned sentences earn credit.")
        if scan.injections:
            notes.append("Text addressed to the grader was ignored and reported as a red flag.")

        return GradeResult(
            question_id=question.id, matched_question=question.prompt, match_score=match_score, rubric_source=source,
            score=score, band=self.bank.rubric.band_for(score).band, dimensions=self._dimensions(points),
            points=points, red_flags=flags, feedback=self._feedback(question, points, flags, score, notes, source, wrong, match_score),
            misconceptions=wrong,
        )

    def _semantic(self, vecs: np.ndarray, prep: _Prepared) -> np.ndarray:
        semantic = np.maximum(vecs @ prep.point_vecs.T, (vecs @ prep.cue_vecs.T) * self.config.cue_weight)
        return max_into_points(semantic, (vecs @ prep.reference_vecs.T) * prep.reference_weight, prep.reference_owner)

    @staticmethod
    def _special_flags(all_sentences: list[str], injections: list[str], n_words: int) -> list[FlagResult]:
        """Flags of every question: text addressed to the grader, and an answer that is mostly a list."""
        found: list[FlagResult] = []
        if injections:
            found.append(FlagResult(id=MANIPULATION_FLAG,
                                    text="The answer tries to instruct the grader instead of answering the question.",
                                    evidence=injections[0]))
        listed = [s for s in all_sentences if not is_reasoned(s) and len(words(s)) >= 6]
        listed_words = sum(len(words(s)) for s in listed)
        if n_words >= 15 and listed_words >= 0.5 * n_words:
            found.append(FlagResult(id=LISTING_FLAG,
                                    text="Most of the answer is a list of terms with no reasoning behind them.",
                                    evidence=listed[0][:200]))
        return found

    def _dimensions(self, points: list[PointResult]) -> dict[str, dict[str, Any]]:
        dims: dict[str, dict[str, Any]] = {}
        for d in self.bank.rubric.dimension_ids:
            mine = [p for p in points if p.dimension == d]
            if not mine:
                continue
            got = sum(p.weight * p.credit for p in mine)
            total = sum(p.weight for p in mine)
            dims[d] = {"score": int(round(100 * got / total)), "covered": sum(p.covered for p in mine),
                       "points": len(mine), "name": self.bank.rubric.dimension(d).name}
        return dims

    def _feedback(self, question: Question, points: list[PointResult], flags: list[FlagResult], score: int,
                  notes: list[str], source: str, wrong: list[MisconceptionResult],
                  match_score: float = 1.0) -> dict[str, Any]:
        band = self.bank.rubric.band_for(score)
        covered = sorted((p for p in points if p.covered), key=lambda p: -p.weight)
        missed = sorted((p for p in points if not p.covered), key=lambda p: -p.weight)
        summary = f"{score}/100, {band.band}: {band.says}"
        against = graded_against_note(source, question.id, question.prompt, borrowed=match_score < 1.0)
        if against:
            notes.insert(0, against)
        return {
            "summary": summary,
            "notes": notes,
            "strengths": [f"{p.text} (you said: \"{clip(p.evidence)}\")" for p in covered[:4] if p.level == "explained"],
            "deepen": [f"You named it: {p.text} Now say why, how or how much (you said: \"{clip(p.evidence)}\")."
                       for p in covered if p.level == "mentioned"],
            "gaps": [f"{p.text} Study: {', '.join(p.sections)}."
                     + (f" Closest you came: \"{clip(p.closest)}\" (not clear enough to count)." if p.closest else "")
                     for p in missed],
            "red_flags": [f"{f.text} (\"{clip(f.evidence)}\")" for f in flags],
            "misconceptions": [f"You said: \"{clip(m.evidence)}\" In fact: {m.correction} (see {m.section})" for m in wrong],
        }
