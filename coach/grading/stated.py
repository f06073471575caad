"""Which misconceptions and red flags an answer states: one matcher for both.

A wrong claim (a misconception) or a bad move (a red flag) is stated when a sentence carries one
of its cue phrases (``first_statement``, negation-aware), or when a sentence or a clause of a long
one reads as one of its reference texts: the claim or flag text and the `says` sentences, written
the way candidates put it in their own words. ``best_statement`` then holds the match to the
lexical evidence and the stance of the closest reference, and a correct key point that is closer
to the sentence than any reference vetoes it (a sentence about the same topic that gets it right).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from coach.grading.claims import (
    best_statement, claim_tokens, content_stems, distinctive_stems, first_statement, polarity_words, same_polarity,
)
from coach.grading.results import FlagResult, MisconceptionResult

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.questions import Question
    from coach.grading.grader import GradingConfig


@dataclass
class References:
    """The texts one group of claims is matched against (each claim's own text, then its `says`)."""

    vecs: np.ndarray    # (texts, dim)
    texts: list[str]
    owner: np.ndarray   # (texts,): the claim each text states

    @staticmethod
    def texts_of(groups: list[list[str]]) -> tuple[list[str], np.ndarray]:
        texts = [t for g in groups for t in g]
        return texts, np.array([k for k, g in enumerate(groups) for _ in g], dtype=int)

    def nearest(self, unit_vecs: np.ndarray, n: int, units: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(units, n) similarity to each claim's closest text, and the index of that text.

        With ``units``, the closest text that the unit keeps the stance of ("cannot be personalised"
        is read against a wording with a negation, not against "is the same for everyone"); the
        closest text of all when none does (``best_statement`` then turns it down).
        """
        ref_sims = unit_vecs @ self.vecs.T
        sims = np.full((len(unit_vecs), n), -1.0)
        nearest = np.zeros((len(unit_vecs), n), dtype=int)
        if not len(unit_vecs) or not len(self.texts):
            return sims, nearest
        kept = ref_sims if units is None else np.where(_stance_matrix(units, self.texts), ref_sims, -np.inf)
        rows = np.arange(len(unit_vecs))
        for k in range(n):
            refs = np.flatnonzero(self.owner == k)
            if refs.size == 0:
                continue
            best = refs[kept[:, refs].argmax(axis=1)]
            fallback = refs[ref_sims[:, refs].argmax(axis=1)]
            nearest[:, k] = np.where(np.isfinite(kept[rows, best]), best, fallback)
            sims[:, k] = ref_sims[rows, nearest[:, k]]
        return sims, nearest


def _stance_matrix(units: list[str], texts: list[str]) -> np.ndarray:
    """``keeps_stance(unit, text)`` for every pair, from each text's negation counts (computed once)."""
    def sig(text: str) -> tuple[int, bool, int]:
        n = sum(polarity_words(text).values())
        return n % 2, n > 0, n

    u = np.array([sig(t) for t in units]).reshape(-1, 3)
    r = np.array([sig(t) for t in texts]).reshape(-1, 3)
    return ((u[:, None, 0] == r[None, :, 0]) & (u[:, None, 1] == r[None, :, 1]) & (u[:, None, 2] <= r[None, :, 2]))


@dataclass
class AnswerUnits:
    """The answer's sentences, then the clauses of its long ones, with their vectors."""

    sentences: list[str]
    units: list[str]
    whole: list[str]         # the sentence each unit belongs to
    sentence_of: list[int]
    vecs: np.ndarray

    @classmethod
    def build(cls, sentences: list[str], vecs: np.ndarray, owner: list[int], pieces: list[str],
              piece_vecs: np.ndarray) -> "AnswerUnits":
        sentence_of = list(range(len(sentences))) + list(owner)
        return cls(sentences=sentences, units=sentences + pieces, whole=[sentences[j] for j in sentence_of],
                   sentence_of=sentence_of, vecs=np.vstack([vecs, piece_vecs]) if pieces else vecs)


def warm_caches(question: "Question") -> None:
    """Tokenise the question's cues, claims and `says` now (once per question, with its vectors),
    not inside the first grade of it."""
    points = {p.id: p.text for p in question.rubric}
    for wrong in question.misconceptions:
        for text in (wrong.claim, *wrong.cues, *wrong.says):
            claim_tokens(text), polarity_words(text), content_stems(text)
        distinctive_stems(wrong.claim, (*wrong.cues, *wrong.says), wrong.correction, points.get(wrong.point, ""))
    content_stems(" ".join(p.text for p in question.rubric))
    for flag in question.red_flags:
        for text in (flag.text, *flag.cues, *flag.says):
            claim_tokens(text), polarity_words(text), content_stems(text)
        content_stems(" ".join((flag.text, *flag.cues, *flag.says)))


def _point_veto(answer: AnswerUnits, point_vecs: np.ndarray) -> np.ndarray:
    """Per unit, its similarity to the closest correct key point (-1 without points)."""
    if not len(point_vecs) or not len(answer.vecs):
        return np.full(len(answer.units), -1.0)
    return (answer.vecs @ point_vecs.T).max(axis=1)


def stated_misconceptions(question: "Question", answer: AnswerUnits, refs: References, correction_vecs: np.ndarray,
                          point_vecs: np.ndarray, cfg: "GradingConfig") -> list[MisconceptionResult]:
    """Misconceptions the answer states, each with the sentence that states it."""
    if not question.misconceptions or not answer.sentences:
        return []
    sims, nearest = refs.nearest(answer.vecs, len(question.misconceptions), answer.units)
    contrast = sims - answer.vecs @ correction_vecs.T
    near_point = _point_veto(answer, point_vecs)
    points = {p.id: p.text for p in question.rubric}
    found = []
    for k, wrong in enumerate(question.misconceptions):
        said = first_statement(answer.sentences, wrong.cues)
        if said is None:
            ok = (contrast[:, k] >= cfg.claim_contrast) & (sims[:, k] >= near_point - cfg.claim_point_margin)
            distinctive = distinctive_stems(wrong.claim, (*wrong.cues, *wrong.says), wrong.correction,
                                            points.get(wrong.point, ""))
            at = best_statement(answer.units, answer.whole, np.where(ok, sims[:, k], -1.0),
                                [refs.texts[r] for r in nearest[:, k]], distinctive, cfg)
            said = None if at is None else answer.sentences[answer.sentence_of[at]]
        if said is not None:
            found.append(MisconceptionResult(id=wrong.id, point=wrong.point, claim=wrong.claim,
                                             correction=wrong.correction, section=wrong.section, evidence=said))
    return found


def stated_red_flags(question: "Question", answer: AnswerUnits, flag_vecs: np.ndarray, refs: References,
                     point_vecs: np.ndarray, cfg: "GradingConfig") -> list[FlagResult]:
    """Red flags the answer shows: a cue, a sentence close to the flag's text, or one that reads as a `says`."""
    flags = question.red_flags
    if not flags or not answer.sentences:
        return []
    text_sims = answer.vecs[: len(answer.sentences)] @ flag_vecs.T
    sims, nearest = refs.nearest(answer.vecs, len(flags), answer.units)
    near_point = _point_veto(answer, point_vecs)
    rubric = content_stems(" ".join(p.text for p in question.rubric))
    flag_cfg = replace(cfg, claim_score=cfg.flag_score)
    found = []
    for k, flag in enumerate(flags):
        said = first_statement(answer.sentences, flag.cues)
        if said is None:
            said = _close_statement(answer.sentences, text_sims[:, k], flag.text, cfg)
        if said is None and flag.says:
            ok = sims[:, k] >= near_point - cfg.claim_point_margin
            distinctive = content_stems(" ".join((flag.text, *flag.cues, *flag.says))) - rubric
            at = best_statement(answer.units, answer.whole, np.where(ok, sims[:, k], -1.0),
                                [refs.texts[r] for r in nearest[:, k]], distinctive, flag_cfg)
            said = None if at is None else answer.sentences[answer.sentence_of[at]]
        if said is not None:
            found.append(FlagResult(id=flag.id, text=flag.text, evidence=said))
    return found


def _close_statement(sentences: list[str], sims: np.ndarray, text: str, cfg: "GradingConfig") -> str | None:
    """The closest sentence at or above ``claim_similarity`` that is not negated where the text is not."""
    for i in np.argsort(-sims):
        if sims[i] < cfg.claim_similarity:
            return None
        if not cfg.claim_polarity or same_polarity(sentences[i], text):
            return sentences[i]
    return None
