"""A rubric for a question no bank question matches, composed from the guide's authored key points.

Every guide section lists 3-6 ``key_points`` in its front matter. The composer takes them from the
sections retrieved for the question, so that framing, metrics, data, modelling, serving and
monitoring are each represented when the guide has them, then fills up by retrieval rank. Headings
are never used as points. Probes are per dimension and name no answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from coach.content.questions import Question, RubricPoint
from coach.errors import QueryError

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.guide import Guide

# What a grade says about a rubric that is not a bank question's (by GradeResult.rubric_source).
RUBRIC_NOTES = {
    "guide": "No bank question was close enough; this rubric was built from the guide sections cited "
             "(their authored key points).",
    "model": "No bank question was close enough; this rubric was drafted by the configured model from the guide "
             "sections cited, checked against the bank's schema, and kept for this question.",
}

# The dimensions a design answer should touch, in the order an interview usually visits them.
CORE_DIMENSIONS = ("framing", "metrics", "data", "modeling", "serving", "monitoring")
MAX_POINTS = 8
DIMENSION_PROBES = {
    "framing": "Before any model, what exactly would you predict, and what would success look like for the business?",
    "metrics": "How would you know the system works, before launch and once it is live?",
    "data": "Where would the training examples and their labels come from, and what can go wrong with them?",
    "features": "What signals would the model see, and how are they computed when a request arrives?",
    "modeling": "What would you train first, and what would it have to beat?",
    "serving": "How does a prediction reach the user in time, and what happens when one part is slow?",
    "monitoring": "A month after launch, what tells you the system is getting worse, and what do you do then?",
    "tradeoffs": "Where would you spend complexity here, and what would you give up for it?",
    "communication": "How would you summarise the design and its main risks for the team?",
}


def compose_rubric(guide: "Guide", section_ids: list[str]) -> list[RubricPoint]:
    """Key points of ``section_ids`` (best first): one per core dimension, then the rest by rank and weight."""
    ranked: list[tuple[int, str, object]] = []  # (section rank, section id, key point)
    for rank, sid in enumerate(section_ids):
        section = guide.get(sid)
        if section is None:
            continue
        ranked += [(rank, sid, kp) for kp in sorted(section.meta.key_points, key=lambda k: -k.weight)]
    chosen: list[tuple[int, str, object]] = []
    for dim in CORE_DIMENSIONS:
        pick = next((item for item in ranked if item[2].dimension == dim and item not in chosen), None)
        if pick is not None:
            chosen.append(pick)
    for item in sorted(ranked, key=lambda it: (it[0], -it[2].weight)):
        if len(chosen) >= MAX_POINTS:
            break
        if item not in chosen:
            chosen.append(item)
    return [
        RubricPoint(id=f"{sid}:{kp.id}", text=kp.text, dimension=kp.dimension, weight=kp.weight, cues=list(kp.cues),
                    probe=DIMENSION_PROBES.get(kp.dimension, DIMENSION_PROBES["tradeoffs"]), sections=[sid])
        for _, sid, kp in sorted(chosen, key=lambda it: CORE_DIMENSIONS.index(it[2].dimension)
                                  if it[2].dimension in CORE_DIMENSIONS else len(CORE_DIMENSIONS))
    ]


def rubric_for(text: str, searcher: Any, guide: "Guide", n_sections: int,
               drafter: Callable[[str, list[str]], Question | None] | None = None) -> Question:
    """The rubric for ``text`` from the best ``n_sections`` guide sections: a model's draft when one
    is allowed and valid (``drafter``), else composed from the sections' authored key points."""
    section_ids: list[str] = []
    for hit in searcher.search(text, k=12):
        if hit.section_id not in section_ids and len(section_ids) < n_sections:
            section_ids.append(hit.section_id)
    drafted = drafter(text, section_ids) if drafter is not None and section_ids else None
    if drafted is not None:
        return drafted
    points = compose_rubric(guide, section_ids)
    if not points:
        raise QueryError("no bank question matches and the guide has no section close enough to build a rubric")
    return Question(id="guide:" + "+".join(section_ids), topic=guide.get(section_ids[0]).topic, level="mid",
                    prompt=text, rubric=points)
