"""The guide: Markdown sections with YAML front matter under ``knowledge/<topic>/``.

Loading validates the whole guide before anything is indexed, so a bad file stops ingest with a
message naming the file (and the line, when YAML gives one) and leaves the index as it was.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from coach.content.yaml_io import load_yaml
from coach.errors import KnowledgeError
from coach.settings import TOPICS

SECTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,79}$")
_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.S)
GUIDE_SKIP_DIRS = {"questions"}
QUICK_ANSWERS = "Quick answers"  # the H2 of a section's authored questions and short answers
_QUICK_BLOCK = re.compile(rf"^## {QUICK_ANSWERS}[ \t]*$(.*?)(?=^## |\Z)", re.M | re.S)
_H3 = re.compile(r"^### (.+?)[ \t]*$", re.M)


class KeyPoint(BaseModel):
    """An authored key point of a section: what an answer on its subject should make."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    text: str = Field(min_length=10)
    dimension: str
    weight: int = Field(ge=1, le=3)
    cues: list[str] = Field(min_length=1)


class SectionMeta(BaseModel):
    """Front matter of one guide file."""

    model_config = ConfigDict(extra="forbid")

    id: str
    topic: str
    title: str = Field(min_length=3)
    summary: str = Field(min_length=10)
    tags: list[str]
    sources: list[str]
    kind: Literal["section", "overview"] = "section"
    syllabus: list[str] = Field(default_factory=list)
    related: list[str] = Field(default_factory=list)
    key_points: list[KeyPoint] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not SECTION_ID.match(value):
            raise ValueError("must be lowercase letters, digits and hyphens, e.g. lc-problem-framing")
        return value

    @field_validator("topic")
    @classmethod
    def _known_topic(cls, value: str) -> str:
        if value not in TOPICS:
            raise ValueError(f"unknown topic {value!r}; expected one of {', '.join(TOPICS)}")
        return value

    @field_validator("sources")
    @classmethod
    def _some_sources(cls, value: list[str]) -> list[str]:
        if not value or not all(isinstance(s, str) and s.strip() for s in value):
            raise ValueError("must list at least one source")
        return value

    @field_validator("syllabus", mode="before")
    @classmethod
    def _syllabus_as_text(cls, value: object) -> object:
        return [str(v) for v in value] if isinstance(value, list) else value


@dataclass(frozen=True)
class Section:
    """One guide page: metadata, Markdown body and where it came from."""

    meta: SectionMeta
    body: str
    source: str  # path relative to the knowledge folder, with forward slashes
    digest: str  # sha256 of the file's bytes; ingest skips files whose digest is unchanged
    body_line: int = 1  # line of the file where the body starts

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def topic(self) -> str:
        return self.meta.topic

    @property
    def title(self) -> str:
        return self.meta.title

    @property
    def word_count(self) -> int:
        return len(self.body.split())

    @property
    def quick_block(self) -> str:
        """The text under "## Quick answers" (empty when the section has none)."""
        found = _QUICK_BLOCK.search(self.body)
        return found.group(1) if found else ""

    @property
    def teaching_body(self) -> str:
        """The body without its quick answers, which restate it: what the size limits count and
        what a quick answer is checked against."""
        return self.body.replace(self.quick_block, "")

    @property
    def quick_answers(self) -> list[tuple[str, str]]:
        """The section's authored (question, answer) pairs: what Ask leads with when a learner asks
        one of them in other words. Each is an H3 question under "## Quick answers", then its answer."""
        parts = _H3.split(self.quick_block)
        return [(q.strip(), " ".join(a.split())) for q, a in zip(parts[1::2], parts[2::2])]


def quick_question(heading: str) -> str:
    """The question a chunk under "Title > Quick answers > Question?" answers ("" for other chunks):
    Ask may lead with it; coverage and composed rubrics read the teaching text instead."""
    parts = heading.split(" > ")
    return parts[-1] if len(parts) >= 3 and parts[-2] == QUICK_ANSWERS else ""


@dataclass
class Guide:
    """All sections, by id, in a stable order (topic order, then file name)."""

    root: Path
    sections: dict[str, Section] = field(default_factory=dict)

    def by_topic(self, topic: str) -> list[Section]:
        return [s for s in self.sections.values() if s.topic == topic]

    def get(self, section_id: str) -> Section | None:
        return self.sections.get(section_id)

    def __len__(self) -> int:
        return len(self.sections)


_TOP_KEY = re.compile(r"^[A-Za-z_][\w-]*[ \t]*:")
_DECLARED_ID = re.compile(r"^id:[ \t]*[\"']?([\w-]+)", re.M)


def _describe_yaml(exc: yaml.YAMLError) -> str:
    context = getattr(exc, "context", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{context}: {problem}" if context else problem


def _first_broken(front: str) -> tuple[int, str] | None:
    """(0-based line, problem) of the first top-level field that does not parse on its own.

    The parser reports where it gave up, often lines after the mistake (an unclosed quote runs on
    to the next quote); parsed field by field, the first field that fails holds the mistake.
    """
    lines = front.split("\n")
    starts = sorted({0, *(i for i, line in enumerate(lines) if _TOP_KEY.match(line))})
    for start, end in zip(starts, [*starts[1:], len(lines)]):
        try:
            yaml.safe_load("\n".join(lines[start:end]))
        except yaml.YAMLError as exc:
            marks = [m.line for m in (getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None)) if m]
            return start + min([*marks, end - start - 1]), _describe_yaml(exc)
    return None


def _yaml_error(rel: str, front: str, exc: yaml.YAMLError) -> KnowledgeError:
    mark = getattr(exc, "problem_mark", None)
    stopped = mark.line if mark is not None else None
    found = _first_broken(front)
    line, problem = found if found is not None else (stopped, _describe_yaml(exc))
    if line is None:
        return KnowledgeError(f"{rel}: broken YAML front matter: {problem}")
    note = f" (the YAML parser stopped at line {stopped + 2})" if stopped is not None and stopped != line else ""
    # +1 for 1-based lines, +1 for the opening '---' line
    return KnowledgeError(f"{rel}:{line + 2}: broken YAML front matter: {problem}{note}")


def parse_section(path: Path, root: Path) -> Section:
    """Parse and validate one guide file; raises KnowledgeError naming the file and field."""
    rel = path.relative_to(root).as_posix()
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KnowledgeError(f"{rel}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    match = _FRONT.match(text)
    if not match:
        raise KnowledgeError(f"{rel}:1: missing YAML front matter (the file must start with '---')")
    try:
        data = load_yaml(match.group(1))
    except yaml.YAMLError as exc:
        raise _yaml_error(rel, match.group(1), exc) from None
    if not isinstance(data, dict):
        raise KnowledgeError(f"{rel}:2: front matter must be a mapping of fields")
    try:
        meta = SectionMeta.model_validate(data)
    except ValidationError as err:
        problems = []
        for item in err.errors():
            key = ".".join(str(p) for p in item["loc"]) or "front matter"
            msg = "unknown field" if item["type"] == "extra_forbidden" else item["msg"]
            msg = "missing required field" if item["type"] == "missing" else msg
            problems.append(f"field '{key}': {msg}")
        raise KnowledgeError(f"{rel}: " + "; ".join(problems)) from None
    folder = path.parent.name
    if folder != meta.topic:
        raise KnowledgeError(f"{rel}: field 'topic' is {meta.topic!r} but the file is in folder {folder!r}")
    body = text[match.end():].strip()
    if not body:
        raise KnowledgeError(f"{rel}: the section has no body text after the front matter")
    body_line = text[: match.end()].count("\n") + 1
    return Section(meta=meta, body=body, source=rel, digest=hashlib.sha256(raw).hexdigest(), body_line=body_line)


def guide_files(root: Path) -> list[Path]:
    """Markdown files of the five topic folders, in topic order then by name."""
    files: list[Path] = []
    for topic in TOPICS:
        folder = root / topic
        if folder.is_dir():
            files.extend(sorted(folder.glob("*.md")))
    return files


def load_guide(root: Path) -> Guide:
    """Load and validate the whole guide; any problem raises before the caller touches the index."""
    if not root.is_dir():
        raise KnowledgeError(f"knowledge folder {root} does not exist (settings paths.knowledge_dir)")
    unknown = sorted(
        p.name for p in root.iterdir()
        if p.is_dir() and p.name not in TOPICS and p.name not in GUIDE_SKIP_DIRS and not p.name.startswith(".")
    )
    if unknown:
        raise KnowledgeError(
            f"{root}: unknown topic folder(s) {', '.join(unknown)}; expected one of {', '.join(TOPICS)}"
        )
    guide = Guide(root=root)
    errors: list[str] = []
    unparsed: dict[str, int] = {}  # id declared by a file that failed -> index of its error
    follow_on: dict[int, list[str]] = {}
    for path in guide_files(root):
        try:
            section = parse_section(path, root)
        except KnowledgeError as exc:
            declared = _DECLARED_ID.search(path.read_text(encoding="utf-8", errors="replace"))
            if declared:
                unparsed[declared.group(1)] = len(errors)
            errors.append(str(exc))
            continue
        twin = guide.sections.get(section.id)
        if twin is not None:
            errors.append(f"{section.source}: duplicate id {section.id!r} (also in {twin.source})")
            continue
        guide.sections[section.id] = section
    for section in guide.sections.values():
        for ref in section.meta.related:
            if ref in unparsed:  # not a problem of its own: the linked file failed above
                follow_on.setdefault(unparsed[ref], []).append(f"{section.source} links to {ref!r}")
            elif ref not in guide.sections:
                errors.append(f"{section.source}: field 'related': unknown section id {ref!r}")
    for index, consequences in follow_on.items():
        n = len(consequences)
        errors[index] += (f"; {n} later problem{'s follow' if n > 1 else ' follows'} from it: "
                          + ", ".join(consequences))
    if len(errors) == 1:
        raise KnowledgeError(errors[0])
    if errors:
        raise KnowledgeError(f"{len(errors)} problem(s) in the guide:\n  " + "\n  ".join(errors))
    if not guide.sections:
        raise KnowledgeError(f"{root}: no guide sections found under {', '.join(TOPICS)}")
    return guide
