"""Prompt templates kept as YAML files in ``prompts/`` and rendered by name.

Templates fail loudly: a file with a missing field, a placeholder it does not declare, or a
declared variable it never uses is rejected when the library loads, and rendering without a
variable raises instead of sending a prompt with a hole in it. Placeholders are ``str.format``
style, ``{var}``; write literal braces as ``{{`` and ``}}``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from coach.errors import PromptError

REQUIRED_FIELDS = ("name", "description", "variables", "system", "user", "max_chars", "min_chars")
OPTIONAL_FIELDS = ("max_sentences", "asks_question", "must_include", "min_grounding", "embedded_model")


@dataclass(frozen=True)
class PromptTemplate:
    """One validated template; the fields after ``path`` bound what the model's reply may be.

    ``min_chars``/``max_chars`` bound its length. Optional: ``max_sentences`` ends it after that
    many sentences, ``asks_question`` requires a '?', ``must_include`` names variables whose
    values must appear in it, and ``min_grounding`` is the share (0-1) of each sentence's content
    words that must come from the prompt's variables (answers "from the facts only").
    """

    name: str
    description: str
    variables: tuple[str, ...]
    system: str
    user: str
    path: Path
    max_chars: int
    min_chars: int
    max_sentences: int | None = None
    asks_question: bool = False
    must_include: tuple[str, ...] = ()
    min_grounding: float = 0.0
    embedded_model: bool = True  # the embedded 135M model phrases it by default (false: measured to fail too often)

    def render(self, **variables: Any) -> list[BaseMessage]:
        """System + human messages with every declared variable filled in."""
        missing = [v for v in self.variables if v not in variables]
        if missing:
            raise PromptError(f"prompt {self.name!r}: missing variable(s) {', '.join(missing)}")
        extra = sorted(set(variables) - set(self.variables))
        if extra:
            raise PromptError(
                f"prompt {self.name!r}: unexpected variable(s) {', '.join(extra)}; "
                f"it takes {', '.join(self.variables)}"
            )
        values = {k: _as_text(v) for k, v in variables.items()}
        return [SystemMessage(self.system.format(**values)), HumanMessage(self.user.format(**values))]


def _as_text(value: Any) -> str:
    """Lists and tuples read as '; '-joined items; everything else through ``str``."""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    return str(value)


def _placeholders(text: str, where: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise PromptError(f"{where}: bad braces ({exc}); write literal braces as {{{{ and }}}}") from None
    names = set()
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise PromptError(f"{where}: placeholder {{{field}}} must be a plain {{name}}")
        names.add(field)
    return names


def load_template(path: Path) -> PromptTemplate:
    """Read and validate one YAML template; every error names the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PromptError(f"{path}: cannot read the template: {exc}") from None
    if not isinstance(data, dict):
        raise PromptError(f"{path}: a template must be a mapping with {', '.join(REQUIRED_FIELDS)}")
    missing = [f for f in REQUIRED_FIELDS if f not in data]
    if missing:
        raise PromptError(f"{path}: missing field(s) {', '.join(missing)}")
    for field in ("name", "description", "system", "user"):
        if not isinstance(data[field], str) or not data[field].strip():
            raise PromptError(f"{path}: field {field!r} must be a non-empty string")
    variables = data["variables"]
    if not isinstance(variables, list) or not all(isinstance(v, str) and v.isidentifier() for v in variables):
        raise PromptError(f"{path}: 'variables' must be a list of names")
    for field in ("max_chars", "min_chars"):
        if not isinstance(data[field], int) or isinstance(data[field], bool) or data[field] < 0:
            raise PromptError(f"{path}: {field!r} must be a whole number >= 0")
    if data["min_chars"] >= data["max_chars"]:
        raise PromptError(f"{path}: min_chars must be smaller than max_chars")
    unknown = sorted(set(data) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise PromptError(f"{path}: unknown field(s) {', '.join(unknown)}")
    max_sentences = data.get("max_sentences")
    if max_sentences is not None and (not isinstance(max_sentences, int) or isinstance(max_sentences, bool)
                                      or max_sentences < 1):
        raise PromptError(f"{path}: 'max_sentences' must be a whole number >= 1")
    if not isinstance(data.get("asks_question", False), bool):
        raise PromptError(f"{path}: 'asks_question' must be true or false")
    must_include = data.get("must_include", [])
    if not isinstance(must_include, list) or not set(must_include) <= set(variables):
        raise PromptError(f"{path}: 'must_include' must list declared variables")
    min_grounding = data.get("min_grounding", 0.0)
    if not isinstance(min_grounding, (int, float)) or isinstance(min_grounding, bool) or not 0 <= min_grounding <= 1:
        raise PromptError(f"{path}: 'min_grounding' must be a number from 0 to 1")
    if not isinstance(data.get("embedded_model", True), bool):
        raise PromptError(f"{path}: 'embedded_model' must be true or false")
    used = _placeholders(data["system"], f"{path}: system") | _placeholders(data["user"], f"{path}: user")
    undeclared = sorted(used - set(variables))
    if undeclared:
        raise PromptError(f"{path}: placeholder(s) {', '.join(undeclared)} not declared in 'variables'")
    unused = [v for v in variables if v not in used]
    if unused:
        raise PromptError(f"{path}: declared variable(s) {', '.join(unused)} never used")
    return PromptTemplate(
        name=data["name"], description=data["description"].strip(), variables=tuple(variables),
        system=data["system"].strip(), user=data["user"].strip(),
        max_chars=data["max_chars"], min_chars=data["min_chars"], path=path,
        max_sentences=max_sentences, asks_question=data.get("asks_question", False),
        must_include=tuple(must_include), min_grounding=float(min_grounding),
        embedded_model=data.get("embedded_model", True),
    )


class PromptLibrary:
    """Every template in a folder, loaded and validated up front so a broken file stops start-up."""

    def __init__(self, prompts_dir: Path | str) -> None:
        folder = Path(prompts_dir)
        if not folder.is_dir():
            raise PromptError(f"prompts folder {folder} does not exist (paths.prompts_dir)")
        self.prompts_dir = folder
        self._templates: dict[str, PromptTemplate] = {}
        for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
            template = load_template(path)
            if template.name in self._templates:
                first = self._templates[template.name].path
                raise PromptError(f"{path}: template name {template.name!r} already used by {first}")
            self._templates[template.name] = template

    @property
    def names(self) -> list[str]:
        return sorted(self._templates)

    def get(self, name: str) -> PromptTemplate:
        """The template called ``name``; an unknown name lists the known ones."""
        try:
            return self._templates[name]
        except KeyError:
            known = ", ".join(self.names) or "none"
            raise PromptError(f"unknown prompt {name!r}; known prompts: {known} (in {self.prompts_dir})") from None

    def render(self, name: str, **variables: Any) -> list[BaseMessage]:
        """SystemMessage + HumanMessage for template ``name``."""
        return self.get(name).render(**variables)
