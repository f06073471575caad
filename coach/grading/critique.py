"""The end-of-session critique: built deterministically from a grade, so it never depends on the LLM.

Every missed point carries a short explanation and a citation to the guide section that teaches
it; covered points quote the candidate's own words as evidence.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from coach.grading.results import GradeResult
    from coach.content.guide import Guide
    from coach.content.questions import Question, QuestionBank


@dataclass
class Citation:
    section_id: str
    title: str
    topic: str
    source: str  # path under knowledge/

    @property
    def label(self) -> str:
        return f"{self.title} ({self.section_id}, knowledge/{self.source})"


@dataclass
class PointNote:
    id: str
    text: str
    dimension: str
    weight: int
    evidence: str | None
    citations: list[Citation]
    closest: str | None = None  # missed: the sentence nearest to making the point
    level: str = "explained"    # covered points: mentioned (named only) or explained


@dataclass
class TwistNote:
    """The requirement change posed in the deep dive, graded on the answers given after it."""

    change: str
    covered: list[PointNote]
    missed: list[PointNote]
    answered: bool  # False: the interview ended before the candidate replied to it


@dataclass
class Critique:
    question_id: str
    question: str
    score: int
    band: str
    band_says: str
    dimensions: dict[str, dict[str, Any]]
    covered: list[PointNote]
    missed: list[PointNote]
    red_flags: list[dict[str, str]]
    model_answer: str
    practise_next: list[str]
    notes: list[str] = field(default_factory=list)
    misconceptions: list[dict[str, Any]] = field(default_factory=list)  # claim, evidence, correction, citation
    twist: TwistNote | None = None
    diagram: str = ""  # the candidate's last diagram (Mermaid), shown beside the model answer's

    def as_json(self) -> dict[str, Any]:
        return asdict(self)

    def markdown(self) -> str:
        """The critique card as Markdown (used by the CLI, the web app and reports)."""
        out = [f"### Critique — {self.score}/100 ({self.band})", "", self.band_says, ""]
        out += [f"> {n}" for n in self.notes]
        out += ["", "| Dimension | Score | Points |", "|---|---:|---:|"]
        for info in self.dimensions.values():
            out.append(f"| {info['name']} | {info['score']} | {info['covered']}/{info['points']} |")
        if self.covered:
            out += ["", "**Covered**"]
            for p in self.covered:
                said = " ".join((p.evidence or "").split())
                if p.level == "mentioned":
                    out.append(f"- ◐ {p.text} _(mentioned: half credit)_  \n  _You said:_ “{said}”  \n"
                               "  _To lift it:_ say why it matters here, how it works, or how much (a number, a trade-off).")
                else:
                    out.append(f"- ✓ {p.text} _(explained)_  \n  _You said:_ “{said}”")
        if self.missed:
            out += ["", "**Missed** (study the cited sections)"]
            for p in self.missed:
                cites = "; ".join(f"[{c.title}](knowledge/{c.source})" for c in p.citations)
                near = (f"  \n  _Closest you came:_ “{' '.join(p.closest.split())}” (not clear enough to count: "
                        "say what you would do and why)") if p.closest else ""
                out.append(f"- ✗ {p.text}{near}  \n  _Study:_ {cites}")
        if self.red_flags:
            out += ["", "**Red flags**"]
            out += [f"- ⚑ {f['text']} — “{' '.join(f['evidence'].split())[:160]}”" for f in self.red_flags]
        if self.misconceptions:
            out += ["", "**Misconceptions** (each cost like a red flag)"]
            for m in self.misconceptions:
                cite_md = f"[{m['title']}](knowledge/{m['source']})" if m.get("source") else f"`{m['section']}`"
                out.append(f"- ✗ You said: “{' '.join(m['evidence'].split())[:200]}”  \n  In fact: {m['correction']} "
                           f"(see {cite_md})")
        if self.twist is not None:
            out += ["", f"**The twist** (graded on its own) — {' '.join(self.twist.change.split())}"]
            if not self.twist.answered:
                out.append("- The interview ended before you answered it.")
            out += [f"- ✓ {p.text}  \n  _You said:_ “{' '.join((p.evidence or '').split())}”" for p in self.twist.covered]
            out += [f"- ✗ {p.text}  \n  _Study:_ " + "; ".join(f"[{c.title}](knowledge/{c.source})" for c in p.citations)
                    for p in self.twist.missed]
        if self.diagram.strip():
            out += ["", "**Your diagram**", "", f"```mermaid\n{self.diagram.strip()}\n```"]
        if self.model_answer.strip():
            out += ["", "**Model answer (outline)**", "", self.model_answer.strip()]
        if self.practise_next:
            out += ["", "**Practise next**"] + [f"- {line}" for line in self.practise_next]
        return "\n".join(out)


def cite(guide: "Guide", section_ids: list[str]) -> list[Citation]:
    out = []
    for sid in section_ids:
        section = guide.get(sid)
        if section is not None:
            out.append(Citation(section_id=sid, title=section.title, topic=section.topic, source=section.source))
    return out


def build_critique(question: "Question", grade: "GradeResult", guide: "Guide", bank: "QuestionBank") -> Critique:
    notes = lambda p: PointNote(id=p.id, text=p.text, dimension=p.dimension, weight=p.weight,  # noqa: E731
                                evidence=p.evidence, citations=cite(guide, p.sections), closest=p.closest,
                                level=p.level or ("explained" if p.covered else "missed"))
    covered = [notes(p) for p in sorted(grade.points, key=lambda p: -p.weight) if p.covered]
    missed = [notes(p) for p in sorted(grade.points, key=lambda p: -p.weight) if not p.covered]
    band = bank.rubric.band_for(grade.score)
    return Critique(
        question_id=question.id, question=question.prompt, score=grade.score, band=grade.band, band_says=band.says,
        dimensions=grade.dimensions, covered=covered, missed=missed,
        red_flags=[{"id": f.id, "text": f.text, "evidence": f.evidence} for f in grade.red_flags],
        model_answer=question.model_answer, practise_next=_practise_next(question, grade, bank),
        notes=list(grade.feedback.get("notes", [])),
        misconceptions=[_misconception_note(m, guide) for m in grade.misconceptions],
    )


def _misconception_note(m: Any, guide: "Guide") -> dict[str, Any]:
    section = guide.get(m.section)
    return {"id": m.id, "point": m.point, "claim": m.claim, "evidence": m.evidence, "correction": m.correction,
            "section": m.section, "title": section.title if section else m.section,
            "source": section.source if section else None}


def _practise_next(question: "Question", grade: "GradeResult", bank: "QuestionBank") -> list[str]:
    if not grade.dimensions:
        return []
    weakest = min(grade.dimensions, key=lambda d: (grade.dimensions[d]["score"], d))
    name = bank.rubric.dimension(weakest).name
    others = [q for q in bank if q.id != question.id]
    ranked = sorted(others, key=lambda q: (-sum(p.weight for p in q.rubric if p.dimension == weakest), q.id))
    lines = [f"Your weakest dimension here was {name} ({grade.dimensions[weakest]['score']}/100)."]
    if ranked:
        lines.append(f"Try {ranked[0].id} ({ranked[0].topic}, {ranked[0].level}): {ranked[0].prompt}")
    return lines
