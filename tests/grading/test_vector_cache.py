"""The grader's sentence-vector cache: only new text is embedded, and grades stay the same bit for bit."""

import numpy as np

from coach.grading.vector_cache import VectorCache
from tests.grading.test_grading import STRONG


class CountingEmbeddings:
    """A stand-in that records what it was asked to embed (a vector per text from its length)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts):
        self.calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_only_unseen_texts_are_embedded_once_each():
    fake = CountingEmbeddings()
    cache = VectorCache(fake, size=10)
    first = cache.encode(["a", "bb", "a"])
    assert fake.calls == [["a", "bb"]]
    assert first.tolist() == [[1, 1], [2, 1], [1, 1]]
    again = cache.encode(["bb", "ccc"])
    assert fake.calls[-1] == ["ccc"] and again.tolist() == [[2, 1], [3, 1]]
    cache.encode(["bb", "ccc"])
    assert len(fake.calls) == 2  # nothing new


def test_the_least_recently_used_text_goes_first():
    fake = CountingEmbeddings()
    cache = VectorCache(fake, size=2)
    cache.encode(["a"])
    cache.encode(["b"])
    cache.encode(["a"])  # "a" used again, so "b" is the oldest
    cache.encode(["c"])
    assert len(cache) == 2
    cache.encode(["a", "b"])
    assert fake.calls[-1] == ["b"]


class Recording:
    """The real embeddings, recording each text it embeds."""

    def __init__(self, inner) -> None:
        self.inner, self.seen = inner, []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, texts):
        self.seen += list(texts)
        return self.inner.encode(texts)


def test_a_growing_practice_answer_grades_as_if_fresh(real_coach):
    """Turn two embeds only its own sentences; the grade equals a grader that embeds everything anew."""
    from coach.grading.grader import Grader
    from coach.text import sentences

    said = sentences(STRONG)
    first, answer = " ".join(said[:4]), " ".join(said[:4]) + "\n\n" + " ".join(said[4:])
    recording = Recording(real_coach.embeddings)
    grader = Grader(real_coach.bank, recording)
    grader.grade("arch-q01", first)
    before = len(recording.seen)
    warm = grader.grade("arch-q01", answer)
    assert not set(recording.seen[before:]) & set(said[:4])  # turn one's sentences were not embedded again
    fresh = Grader(real_coach.bank, real_coach.embeddings).grade("arch-q01", answer)
    assert warm.as_json() == fresh.as_json()
