"""The guide's "Quick answers": short authored answers Ask leads with, held to what the section says.

A quick answer is shown to a learner as the answer itself, so it must be as right as the section:
every number it gives appears in the section's own text, nearly all its content words do too, and
each sentence is one Ask can quote alone (whole, plain, not leaning on a sentence before it).
"""

import re

import pytest

from coach.content.guide import load_guide
from coach.search.ask import _whole, clean_sentence
from coach.search.compose import _LEANS_BACK
from coach.text import sentences, stems
from tests.conftest import ROOT

GUIDE = load_guide(ROOT / "knowledge")
SECTIONS = list(GUIDE.sections.values())
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# bold, italics, code, links ("(a - e) * ln" is a formula; "P(Y|X)" a probability)
_MARKUP = re.compile(r"\*\S|\S\*|[`\[\]]")
# Share of an answer's content stems that the rest of its section uses: restated, not invented.
# The lowest of the 367 answers when they were written was 0.80; a fact from elsewhere drops it.
MIN_SHARED_STEMS = 0.75


def _rest(section) -> str:
    """What the section teaches outside its quick answers: body, summary and key points."""
    points = " ".join(p.text for p in section.meta.key_points)
    return f"{section.teaching_body} {section.meta.summary} {points}"


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.id)
def test_every_section_has_four_to_six_quick_answers(section):
    asked = section.quick_answers
    assert 4 <= len(asked) <= 6, f"{section.source}: {len(asked)} quick answers"
    for question, answer in asked:
        assert question.endswith("?") and 4 <= len(question.split()) <= 20, f"{section.source}: {question!r}"
        assert answer, f"{section.source}: {question!r} has no answer"
    assert len({q.lower() for q, _ in asked}) == len(asked), f"{section.source}: a question is repeated"


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.id)
def test_quick_answers_are_whole_plain_sentences(section):
    for question, answer in section.quick_answers:
        said = sentences(answer)
        assert 2 <= len(said) <= 3, f"{section.source}: {question!r} has {len(said)} sentences"
        assert not _MARKUP.search(answer), f"{section.source}: markup in the answer to {question!r}"
        for sentence in said:
            assert _whole(clean_sentence(sentence)), f"{section.source}: not a whole sentence: {sentence!r}"
        assert not _LEANS_BACK.match(said[0]), f"{section.source}: {question!r} opens with {said[0]!r}"


@pytest.mark.parametrize("section", SECTIONS, ids=lambda s: s.id)
def test_quick_answers_only_restate_their_section(section):
    rest = _rest(section)
    numbers = set(_NUMBER.findall(rest))
    rest_stems = set(stems(rest))
    for question, answer in section.quick_answers:
        new = sorted(set(_NUMBER.findall(answer)) - numbers)
        assert not new, f"{section.source}: {question!r} gives numbers the section does not: {new}"
        own = set(stems(answer))
        shared = len(own & rest_stems) / len(own)
        assert shared >= MIN_SHARED_STEMS, (f"{section.source}: {question!r} uses words the section does not "
                                            f"({shared:.2f}): {sorted(own - rest_stems)}")


def test_questions_differ_across_the_guide():
    seen: dict[str, str] = {}
    for section in SECTIONS:
        for question, _ in section.quick_answers:
            key = question.lower()
            assert key not in seen, f"{question!r} in {section.source} and {seen[key]}"
            seen[key] = section.source
