"""A rubric drafted by a capable model for a question no bank question matches, validated strictly.

Only with ``llm.mode`` ollama or openai (the embedded 135M model cannot write a rubric): the model
gets the question, the rubric's dimensions and the guide sections retrieved for the question, and
replies with points in the bank's schema. The reply is parsed as JSON and validated by the same
pydantic models as the bank (plus: known dimensions, sections from the list given, distinct ids,
5-10 points, several dimensions); anything else is rejected and the caller falls back to the rubric
composed from the guide's authored key points. A valid draft is cached in the store by question
text and model, so the same question is graded against the same rubric every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from coach.content.questions import Question, RubricPoint, TwistPoint
from coach.grading.guide_rubric import DIMENSION_PROBES

if TYPE_CHECKING:  # pragma: no cover
    from langchain_core.language_models import BaseChatModel

    from coach.content.guide import Guide
    from coach.llm.prompts import PromptLibrary
    from coach.store.sessions import Store

log = logging.getLogger("coach.grading")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")
_JSON = re.compile(r"\{.*\}", re.S)


class DraftError(ValueError):
    """The model's draft is not a usable rubric (the reason says why)."""


class _Draft(BaseModel):
    model_config = ConfigDict(extra="ignore")
    points: list[TwistPoint] = Field(min_length=5, max_length=10)

    @field_validator("points")
    @classmethod
    def _ids(cls, points: list[TwistPoint]) -> list[TwistPoint]:
        ids = [p.id for p in points]
        if len(set(ids)) != len(ids) or not all(_ID.match(i) for i in ids):
            raise ValueError("point ids must be distinct short kebab-case ids")
        return points


def parse_draft(reply: str, dimensions: set[str], section_ids: list[str]) -> list[RubricPoint]:
    """The rubric points of a model reply, or DraftError naming what is wrong."""
    match = _JSON.search(reply or "")
    if match is None:
        raise DraftError("the reply holds no JSON object")
    try:
        draft = _Draft.model_validate(json.loads(match.group(0)))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise DraftError(f"not the rubric schema: {str(exc).splitlines()[0]}") from None
    unknown = sorted({p.dimension for p in draft.points} - dimensions)
    if unknown:
        raise DraftError(f"unknown dimension(s) {', '.join(unknown)}")
    if len({p.dimension for p in draft.points}) < 3:
        raise DraftError("the points cover fewer than 3 dimensions")
    stray = sorted({s for p in draft.points for s in p.sections} - set(section_ids))
    if stray:
        raise DraftError(f"section(s) {', '.join(stray)} were not offered")
    return [RubricPoint(**p.model_dump(), probe=DIMENSION_PROBES.get(p.dimension, DIMENSION_PROBES["tradeoffs"]))
            for p in draft.points]


class RubricDrafter:
    """Asks the configured capable model for a rubric; validated, cached, else None."""

    def __init__(self, model: "BaseChatModel", prompts: "PromptLibrary", guide: "Guide", store: "Store",
                 dimensions: set[str], model_name: str) -> None:
        self.model = model
        self.prompts = prompts
        self.guide = guide
        self.store = store
        self.dimensions = dimensions
        self.model_name = model_name

    def key(self, question: str) -> str:
        return hashlib.sha256(f"{self.model_name}\n{' '.join(question.lower().split())}".encode()).hexdigest()

    def draft(self, question: str, section_ids: list[str]) -> Question | None:
        """The drafted rubric as a Question (``rubric_source`` "model"), or None to fall back."""
        key = self.key(question)
        cached = self.store.cached_rubric(key)
        if cached is not None:
            return self._question(question, [RubricPoint(**p) for p in cached], section_ids)
        sections = "\n".join(self._section_line(sid) for sid in section_ids if self.guide.get(sid))
        try:
            reply = self.model.invoke(self.prompts.render(
                "draft_rubric", question=question, dimensions=", ".join(sorted(self.dimensions)), sections=sections))
            points = parse_draft(str(reply.content), self.dimensions, section_ids)
        except DraftError as exc:
            log.warning("drafted rubric rejected (%s); using the rubric composed from the guide", exc)
            return None
        except Exception as exc:  # noqa: BLE001 - a backend failure means the composed rubric, not an error
            log.warning("rubric draft failed (%s: %s); using the rubric composed from the guide",
                        type(exc).__name__, exc)
            return None
        self.store.save_rubric(key, question, self.model_name, [p.model_dump() for p in points])
        return self._question(question, points, section_ids)

    def _section_line(self, sid: str) -> str:
        section = self.guide.get(sid)
        taught = "; ".join(kp.text for kp in section.meta.key_points[:4])
        return f"- {sid}: {section.title}; {taught}"

    def _question(self, question: str, points: list[RubricPoint], section_ids: list[str]) -> Question:
        topic = self.guide.get(section_ids[0]).topic if section_ids and self.guide.get(section_ids[0]) else "lifecycle"
        return Question(id="model:" + self.key(question)[:12], topic=topic, level="mid", prompt=question, rubric=points)
