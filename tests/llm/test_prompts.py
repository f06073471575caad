from pathlib import Path

import pytest
import yaml
from langchain_core.messages import HumanMessage, SystemMessage

from coach.errors import PromptError
from coach.llm.prompts import PromptLibrary, load_template
from tests.conftest import ROOT

PROMPTS = ROOT / "prompts"
TEMPLATE_FILES = sorted(PROMPTS.glob("*.yaml"))


def write(folder: Path, name: str = "t", **fields) -> Path:
    data = {
        "name": name, "description": "a test template", "variables": ["topic"],
        "system": "You talk about {topic}.", "user": "Say one thing about {topic}.",
        "min_chars": 5, "max_chars": 100,
    }
    data.update(fields)
    data = {k: v for k, v in data.items() if v is not None}
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_repo_library_has_the_templates_the_coach_uses():
    lib = PromptLibrary(PROMPTS)
    assert {"probe", "clarify", "critique_intro", "ask_answer"} <= set(lib.names)


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=[p.stem for p in TEMPLATE_FILES])
def test_every_template_renders_with_its_declared_variables(path):
    template = load_template(path)
    assert template.name == path.stem
    values = {name: f"<value of {name}>" for name in template.variables}
    messages = PromptLibrary(PROMPTS).render(template.name, **values)
    assert [type(m) for m in messages] == [SystemMessage, HumanMessage]
    rendered = "\n".join(str(m.content) for m in messages)
    for value in values.values():
        assert value in rendered
    assert template.min_chars < template.max_chars


def test_missing_variable_is_named():
    lib = PromptLibrary(PROMPTS)
    with pytest.raises(PromptError, match="'probe'.*candidate_excerpt"):
        lib.render("probe", question="q", probe="p")


def test_unexpected_variable_is_named():
    lib = PromptLibrary(PROMPTS)
    with pytest.raises(PromptError, match="unexpected variable.*typo"):
        lib.render("probe", question="q", probe="p", candidate_excerpt="c", typo="x")


def test_unknown_template_lists_the_known_ones():
    lib = PromptLibrary(PROMPTS)
    with pytest.raises(PromptError, match="unknown prompt 'nope'.*ask_answer, clarify, critique_intro, draft_rubric, probe"):
        lib.render("nope")


def test_undeclared_placeholder_names_the_file(tmp_path):
    path = write(tmp_path, user="Say one thing about {topic} for {level}.")
    with pytest.raises(PromptError, match=f"{path.name}.*level.*not declared"):
        PromptLibrary(tmp_path)


def test_declared_but_unused_variable_names_the_file(tmp_path):
    path = write(tmp_path, variables=["topic", "extra"])
    with pytest.raises(PromptError, match=f"{path.name}.*extra.*never used"):
        PromptLibrary(tmp_path)


def test_missing_field_names_the_file_and_field(tmp_path):
    path = write(tmp_path, max_chars=None)
    with pytest.raises(PromptError, match=f"{path.name}.*missing field.*max_chars"):
        PromptLibrary(tmp_path)


@pytest.mark.parametrize("fields, message", [
    ({"user": "Unbalanced {topic"}, "bad braces"),
    ({"user": "Attribute {topic.name}"}, "plain"),
    ({"min_chars": 100, "max_chars": 50}, "min_chars must be smaller"),
    ({"must_include": ["nope"]}, "must_include"),
    ({"min_grounding": 2}, "min_grounding"),
    ({"max_sentences": 0}, "max_sentences"),
    ({"colour": "blue"}, "unknown field"),
])
def test_invalid_templates_are_rejected_with_the_file_named(tmp_path, fields, message):
    path = write(tmp_path, **fields)
    with pytest.raises(PromptError, match=message) as info:
        PromptLibrary(tmp_path)
    assert path.name in str(info.value)


def test_literal_braces_and_list_values(tmp_path):
    write(tmp_path, user="Return JSON like {{\"k\": 1}} about {topic}.")
    messages = PromptLibrary(tmp_path).render("t", topic=["drift", "latency"])
    assert messages[1].content == 'Return JSON like {"k": 1} about drift; latency.'


def test_duplicate_names_are_rejected(tmp_path):
    write(tmp_path, name="a")
    second = write(tmp_path, name="b")
    second.write_text(second.read_text().replace("name: b", "name: a"))
    with pytest.raises(PromptError, match="already used"):
        PromptLibrary(tmp_path)


def test_missing_folder_is_named(tmp_path):
    with pytest.raises(PromptError, match="does not exist"):
        PromptLibrary(tmp_path / "none")
