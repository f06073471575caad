"""The numeric core of matching sentences to key points: cue phrases, clauses and evidence assignment."""

from __future__ import annotations

import re

import numpy as np

from coach.text import FENCED_BLOCK, sentences, stems


def cue_tuple(cue: str) -> tuple[str, ...]:
    return tuple(stems(cue, keep_stopwords=False)) or tuple(stems(cue, keep_stopwords=True))


def contains(haystack: list[str], cue: tuple[str, ...]) -> bool:
    """Cue stems appear in order, allowing up to two words between them (e.g. 'split ... by time')."""
    if not cue:
        return False
    n = len(haystack)
    for start in range(n):
        if haystack[start] != cue[0]:
            continue
        pos, ok = start, True
        for token in cue[1:]:
            window = haystack[pos + 1: pos + 4]
            if token not in window:
                ok = False
                break
            pos = pos + 1 + window.index(token)
        if ok:
            return True
    return False


LONG_SENTENCE = 16  # words: shorter sentences are embedded whole only
_CLAUSE_SPLIT = re.compile(
    r"\s*[;:]\s+|\s+[-\u2013\u2014]+\s+|,\s+(?=(?:so|which|because|since|but|while|then|and|or|where|otherwise|unless|though)\b)")


def clauses(rows: list[str], min_words: int = 4, long_sentence: int = LONG_SENTENCE) -> tuple[list[int], list[str]]:
    """Clauses of the long sentences that have more than one (owner row, clause text)."""
    owner, pieces = [], []
    for i, sentence in enumerate(rows):
        if len(sentence.split()) < long_sentence:
            continue
        parts = [p for p in _CLAUSE_SPLIT.split(sentence) if len(p.split()) >= min_words]
        if len(parts) > 1:
            owner += [i] * len(parts)
            pieces += parts
    return owner, pieces


def nearest_attempts(combined: np.ndarray, floor: float) -> np.ndarray:
    """Per point, the sentence that is about it more than about any other point (row, or -1).

    Shown with a missed point ("closest you came"), so the candidate sees which sentence was read
    as an attempt and can say it outright, rather than being told only that the point is missing.
    """
    rows = np.full(combined.shape[1], -1, dtype=int)
    top = combined.argmax(axis=1)
    for j in range(combined.shape[1]):
        mine = np.flatnonzero(top == j)
        if mine.size:
            i = int(mine[np.argmax(combined[mine, j])])
            if combined[i, j] >= floor:
                rows[j] = i
    return rows


def promote_winners(combined: np.ndarray, threshold: float, floor: float, margin: float) -> np.ndarray:
    """Lift to ``threshold`` each sentence's best point when it leads the runner-up by ``margin``.

    Paraphrases score lower than answers that reuse the rubric's words, but a sentence that is
    plainly about one point more than any other still makes that point.
    """
    top2 = np.sort(combined, axis=1)[:, -2:]
    best = combined.argmax(axis=1)
    rows = np.flatnonzero((top2[:, 1] - top2[:, 0] >= margin) & (top2[:, 1] >= floor))
    out = combined.astype(np.float64)  # float32 would store the threshold just below itself
    out[rows, best[rows]] = np.maximum(out[rows, best[rows]], threshold)
    return out


def assign_evidence(combined: np.ndarray, threshold: float, per_sentence: int) -> tuple[np.ndarray, np.ndarray]:
    """Best sentence per point, strongest pairs first, each sentence credited for at most ``per_sentence`` points.

    Returns (row of the evidence sentence, combined score) per point; a point whose candidates were
    all used up keeps its best remaining score, which is then below the threshold or from a free row.
    """
    n_sent, n_points = combined.shape
    rows = np.full(n_points, -1, dtype=int)
    scores = np.full(n_points, -1.0)
    used = np.zeros(n_sent, dtype=int)
    order = np.dstack(np.unravel_index(np.argsort(-combined, axis=None), combined.shape))[0]
    for i, j in order:
        if rows[j] >= 0:
            continue
        if combined[i, j] >= threshold and used[i] >= per_sentence:
            continue
        rows[j], scores[j] = i, combined[i, j]
        used[i] += 1
    return rows, scores


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


def outline_sentences(model_answer: str, min_words: int = 4) -> list[str]:
    """The sentences of a model answer's outline (its bullets), without the diagram source."""
    lines = (_BULLET.sub("", line).strip() for line in FENCED_BLOCK.sub("", model_answer).splitlines())
    return [s for line in lines if line for s in sentences(line) if len(s.split()) >= min_words]


def assign_to_points(sims: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """(rows kept, their point) for each reference row (a model-answer sentence) by its closest
    point, when that point is at least ``floor`` close; the others make no point of their own."""
    if not sims.size:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    best = sims.argmax(axis=1)
    rows = np.flatnonzero(sims[np.arange(len(sims)), best] >= floor)
    return rows, best[rows]


def max_into_points(semantic: np.ndarray, ref_sims: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """``semantic`` (sentences, points) raised to each sentence's similarity with the references of
    each point (``ref_sims``: sentences x references, ``owner``: the point of each reference)."""
    if owner.size:
        np.maximum.at(semantic.T, owner, ref_sims.T)
    return semantic
