"""Coverage eval: is there enough guide and question bank per topic, and is it wired together?

Per topic: sections and words, questions per level, key points and their dimensions, syllabus
subtopics mapped in ``knowledge/coverage.yaml``. Checks that every rubric point links to an
existing section and that every section is taught by at least one question or is reference-only
(an overview page, or listed under ``reference_only:`` in coverage.yaml).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evals.common import ROOT, TOPICS, Check, gate

TOPIC_NUMBER = {topic: str(i) for i, topic in enumerate(TOPICS, start=1)}  # syllabus "1.x" is lifecycle, ...
_SUBTOPIC = re.compile(r"^###\s+(\d+\.\d+)\s", re.M)


@dataclass
class TopicCoverage:
    topic: str
    sections: int = 0                 # content sections (kind: section)
    overview_pages: int = 0
    words: int = 0
    questions: int = 0
    questions_by_level: dict[str, int] = field(default_factory=dict)
    key_points: int = 0
    points_by_dimension: dict[str, int] = field(default_factory=dict)
    subtopics_expected: list[str] = field(default_factory=list)
    subtopics_covered: list[str] = field(default_factory=list)
    untaught_sections: list[str] = field(default_factory=list)
    reference_only: list[str] = field(default_factory=list)
    broken_links: list[str] = field(default_factory=list)


@dataclass
class CoverageResult:
    topics: dict[str, TopicCoverage]
    min_sections: int
    min_questions: int
    syllabus_source: str
    problems: list[str] = field(default_factory=list)   # everything that fails, one line each
    cases: list[dict[str, Any]] = field(default_factory=list)  # the case list: case, sources, sections, questions
    warnings: list[str] = field(default_factory=list)   # inconsistencies that do not fail

    def topic_passed(self, topic: str) -> bool:
        t = self.topics[topic]
        return (t.sections >= self.min_sections and t.questions >= self.min_questions and not t.untaught_sections
                and not t.broken_links and set(t.subtopics_expected) <= set(t.subtopics_covered))

    def checks(self) -> list[Check]:
        out: list[Check] = []
        for topic in TOPICS:
            t = self.topics[topic]
            out.append(gate("Coverage: sections", topic, t.sections, self.min_sections))
            out.append(gate("Coverage: questions", topic, t.questions, self.min_questions))
            linked = t.key_points - len(t.broken_links)
            out.append(gate("Coverage: rubric links valid", topic, linked / t.key_points if t.key_points else None, 1.0,
                            note=f"{linked}/{t.key_points}"))
            taught = t.sections + t.overview_pages - len(t.untaught_sections)
            total = t.sections + t.overview_pages
            out.append(gate("Coverage: sections taught or ref-only", topic, taught / total if total else None, 1.0,
                            note=f"{taught}/{total}"))
            n = len(t.subtopics_expected)
            got = len(set(t.subtopics_expected) & set(t.subtopics_covered))
            out.append(gate("Coverage: syllabus subtopics", topic, got / n if n else None, 1.0, note=f"{got}/{n}"))
        return out

    def as_json(self) -> dict[str, Any]:
        return {"topics": {t: asdict(v) for t, v in self.topics.items()}, "min_sections": self.min_sections,
                "min_questions": self.min_questions, "syllabus_source": self.syllabus_source,
                "problems": self.problems, "warnings": self.warnings,
                "passed": {t: self.topic_passed(t) for t in self.topics}}


def syllabus_subtopics(knowledge_dir: Path, coverage: dict[str, Any]) -> tuple[dict[str, list[str]], str]:
    """Expected subtopic ids per topic: from ``../shared/syllabus.md`` beside the repo when present,
    else the keys of coverage.yaml."""
    candidates = [knowledge_dir.parent.parent / "shared" / "syllabus.md", ROOT.parent / "shared" / "syllabus.md"]
    ids: list[str] = []
    source = "knowledge/coverage.yaml"
    for path in candidates:
        if path.is_file():
            ids = _SUBTOPIC.findall(path.read_text(encoding="utf-8"))
            source = "syllabus.md beside the repo"
            break
    if not ids:
        ids = [str(k) for k in (coverage.get("subtopics") or {})]
    by_topic = {t: [] for t in TOPICS}
    for sid in ids:
        for topic, number in TOPIC_NUMBER.items():
            if sid.split(".")[0] == number:
                by_topic[topic].append(sid)
    return by_topic, source


def run_coverage(knowledge_dir: Path, thresholds: dict[str, Any]) -> CoverageResult:
    """Read the guide, the bank and coverage.yaml; links are checked here, so a broken one is reported, not raised."""
    from coach.content.guide import load_guide
    from coach.content.questions import load_question_bank

    cfg = thresholds.get("coverage", {})
    guide = load_guide(knowledge_dir)
    bank = load_question_bank(knowledge_dir)  # no section check: this eval reports broken links itself
    coverage = yaml.safe_load((knowledge_dir / "coverage.yaml").read_text(encoding="utf-8")) or {}
    reference_only = set(coverage.get("reference_only") or [])
    expected, source = syllabus_subtopics(knowledge_dir, coverage)
    result = CoverageResult(topics={}, min_sections=int(cfg.get("min_sections_per_topic", 8)),
                            min_questions=int(cfg.get("min_questions_per_topic", 12)), syllabus_source=source)

    taught: set[str] = set()
    for q in bank:
        for p in q.rubric:
            taught.update(p.sections)
    for unknown in sorted(reference_only - set(guide.sections)):
        result.problems.append(f"coverage.yaml reference_only: section {unknown!r} does not exist")
    for stale in sorted(reference_only & taught):
        result.warnings.append(f"{stale} is listed as reference-only but questions teach it")

    mapped: dict[str, list[str]] = {str(k): list((v or {}).get("sections") or [])
                                    for k, v in (coverage.get("subtopics") or {}).items()}
    for topic in TOPICS:
        t = TopicCoverage(topic=topic)
        for section in guide.by_topic(topic):
            if section.meta.kind == "overview":
                t.overview_pages += 1
            else:
                t.sections += 1
            t.words += section.word_count
            if section.meta.kind == "overview" or section.id in reference_only:
                t.reference_only.append(section.id)
            elif section.id not in taught:
                t.untaught_sections.append(section.id)
                result.problems.append(f"{topic}: section {section.id} ({section.source}) is taught by no question "
                                       "and is not reference-only")
        questions = bank.by_topic(topic)
        t.questions = len(questions)
        t.questions_by_level = dict(sorted(Counter(q.level for q in questions).items()))
        dims: Counter[str] = Counter()
        for q in questions:
            for p in q.rubric:
                t.key_points += 1
                dims[p.dimension] += 1
                for sid in p.sections:
                    if sid not in guide.sections:
                        t.broken_links.append(f"{q.id}/{p.id} -> {sid}")
                        result.problems.append(f"{topic}: {q.id} point {p.id} links to missing section {sid!r}")
        t.points_by_dimension = dict(dims.most_common())
        t.subtopics_expected = expected[topic]
        for sub in expected[topic]:
            sections = [s for s in mapped.get(sub, []) if s in guide.sections]
            if sections:
                t.subtopics_covered.append(sub)
                for sid in sections:
                    if sub not in guide.sections[sid].meta.syllabus:
                        result.warnings.append(f"coverage.yaml maps {sub} to {sid}, whose front matter does not list it")
            else:
                result.problems.append(f"{topic}: syllabus subtopic {sub} maps to no existing section in coverage.yaml")
        if t.sections < result.min_sections:
            result.problems.append(f"{topic}: {t.sections} content sections, below the minimum of {result.min_sections}")
        if t.questions < result.min_questions:
            result.problems.append(f"{topic}: {t.questions} questions, below the minimum of {result.min_questions}")
        result.topics[topic] = t
    for case in coverage.get("cases") or []:
        for sid in case.get("sections") or []:
            if sid not in guide.sections:
                result.problems.append(f"coverage.yaml cases: {case['case']}: section {sid!r} does not exist")
        for qid in case.get("questions") or []:
            if qid not in bank.questions:
                result.problems.append(f"coverage.yaml cases: {case['case']}: question {qid!r} does not exist")
        result.cases.append({"case": case["case"], "sources": case.get("sources", 0),
                             "sections": list(case.get("sections") or []), "questions": list(case.get("questions") or [])})
    return result
