"""The guide loader rejects bad files with a message naming the file (and line)."""

import pytest

from coach.errors import KnowledgeError
from coach.content.guide import load_guide, parse_section
from tests.conftest import run_cli


def _edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_fixture_guide_loads(knowledge):
    guide = load_guide(knowledge)
    assert len(guide) == 5
    assert {s.topic for s in guide.sections.values()} == {
        "lifecycle", "infrastructure", "design-patterns", "monitoring", "architectures"}
    assert guide.get("fx-psi").title == "Population stability index"


def test_missing_field(knowledge):
    _edit(knowledge / "monitoring" / "fx-psi.md", "summary: Bin a feature", "summery: Bin a feature")
    with pytest.raises(KnowledgeError) as err:
        load_guide(knowledge)
    msg = str(err.value)
    assert "monitoring/fx-psi.md" in msg and "'summary': missing required field" in msg and "'summery': unknown field" in msg


def test_unknown_topic(knowledge):
    _edit(knowledge / "monitoring" / "fx-psi.md", "topic: monitoring", "topic: observability")
    with pytest.raises(KnowledgeError, match=r"monitoring/fx-psi\.md.*unknown topic 'observability'"):
        load_guide(knowledge)


def test_topic_must_match_folder(knowledge):
    _edit(knowledge / "monitoring" / "fx-psi.md", "topic: monitoring", "topic: lifecycle")
    with pytest.raises(KnowledgeError, match="folder 'monitoring'"):
        load_guide(knowledge)


def test_duplicate_id(knowledge):
    _edit(knowledge / "monitoring" / "fx-psi.md", "id: fx-psi", "id: fx-canary")
    with pytest.raises(KnowledgeError, match=r"duplicate id 'fx-canary' \(also in design-patterns/fx-canary\.md\)"):
        load_guide(knowledge)


def test_broken_yaml_names_file_and_line(knowledge):
    _edit(knowledge / "monitoring" / "fx-psi.md", "tags: [drift, psi]", "tags: [drift, psi")
    with pytest.raises(KnowledgeError, match=r"monitoring/fx-psi\.md:\d+: broken YAML"):
        load_guide(knowledge)


def test_no_front_matter(knowledge):
    (knowledge / "lifecycle" / "plain.md").write_text("# Just text\n")
    with pytest.raises(KnowledgeError, match=r"lifecycle/plain\.md:1: missing YAML front matter"):
        load_guide(knowledge)


def test_empty_sources(knowledge):
    _edit(knowledge / "monitoring" / "fx-psi.md", 'sources: ["PSI-BANDS: capymoa PSI documentation"]', "sources: []")
    with pytest.raises(KnowledgeError, match="'sources': .*at least one source"):
        load_guide(knowledge)


def test_unknown_related_id(knowledge):
    _edit(knowledge / "architectures" / "fx-fraud.md", "related: [fx-labels, fx-feature-store]", "related: [fx-nope]")
    with pytest.raises(KnowledgeError, match="unknown section id 'fx-nope'"):
        load_guide(knowledge)


def test_unknown_topic_folder(knowledge):
    (knowledge / "cooking").mkdir()
    with pytest.raises(KnowledgeError, match="unknown topic folder"):
        load_guide(knowledge)


def test_parse_records_body_and_digest(knowledge):
    section = parse_section(knowledge / "monitoring" / "fx-psi.md", knowledge)
    assert section.body.startswith("# Population stability index")
    assert len(section.digest) == 64 and section.word_count > 50


def test_cli_ingest_rejects_bad_file_and_keeps_index(config, knowledge):
    code, out, err = run_cli("ingest", config=config)
    assert code == 0, err
    before = run_cli("retrieve", "population stability index thresholds", "--json", config=config)
    assert before[0] == 0
    _edit(knowledge / "monitoring" / "fx-psi.md", "topic: monitoring", "topic: nonsense")
    (knowledge / "design-patterns" / "fx-canary.md").unlink()  # a pending deletion must not be applied
    code, out, err = run_cli("ingest", config=config)
    assert code != 0
    assert "fx-psi.md" in err and "unknown topic 'nonsense'" in err and "Traceback" not in err
    after = run_cli("retrieve", "population stability index thresholds", "--json", config=config)
    assert after[1] == before[1]
    canary = run_cli("retrieve", "canary blast radius", "--json", config=config)
    assert "fx-canary" in canary[1]


@pytest.mark.parametrize("old, new, line", [
    ("title: Labels that arrive late", 'title: "Labels that arrive late', 4),  # the parser stops at line 7
    ("tags: [labels, delay]", "tags: [labels, delay", 6),
    ("summary: Natural labels", "summary: Natural: labels: [", 5),
])
def test_broken_front_matter_names_the_broken_line_and_the_rest_follow_from_it(knowledge, old, new, line):
    _edit(knowledge / "lifecycle" / "fx-labels.md", old, new)
    with pytest.raises(KnowledgeError) as err:
        load_guide(knowledge)
    message = str(err.value)
    assert message.startswith(f"lifecycle/fx-labels.md:{line}: broken YAML front matter"), message
    # fx-fraud links to fx-labels: that error is a consequence, not a second problem
    assert "problem(s) in the guide" not in message
    assert "1 later problem follows from it" in message and "fx-fraud" in message
