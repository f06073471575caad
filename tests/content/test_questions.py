"""The question bank loader: the real bank loads; each kind of error names file and question."""

import shutil

import pytest
import yaml

from coach.errors import KnowledgeError
from coach.content.guide import load_guide
from coach.content.questions import load_question_bank
from coach.settings import LEVELS, TOPICS
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def real_bank():
    guide = load_guide(ROOT / "knowledge")
    return load_question_bank(ROOT / "knowledge", set(guide.sections))


def test_real_bank_size_and_spread(real_bank):
    assert len(real_bank) >= 60
    for topic in TOPICS:
        questions = real_bank.by_topic(topic)
        assert len(questions) >= 12, topic
        assert len({q.level for q in questions}) >= 3, f"{topic} levels too narrow"
    assert {q.level for q in real_bank} == set(LEVELS)
    for q in real_bank:
        assert 5 <= len(q.rubric) <= 10, q.id
        assert q.model_answer.strip() and q.context.strip(), q.id
        assert len({p.dimension for p in q.rubric}) >= 3, q.id


def test_architecture_questions_are_full_designs(real_bank):
    prompts = " ".join(q.prompt.lower() for q in real_bank.by_topic("architectures"))
    for word in ["fraud", "recommend", "search", "ads", "feed", "harmful content"]:
        assert word in prompts, word
    assert "assistant" in prompts or "rag" in prompts


def test_probes_never_reveal_their_cues(real_bank):
    leaks = []
    for q in real_bank:
        phrases = [c.lower() for p in q.rubric for c in p.cues if len(c.split()) >= 2]
        for p in q.rubric:
            probe = f" {' '.join(p.probe.lower().split())} "
            leaks += [(q.id, p.id, c) for c in p.cues if len(c) > 3 and f" {c.lower()} " in probe]
            leaks += [(q.id, p.id, c) for c in phrases if f" {c} " in probe]  # nor another point's phrase
    assert not leaks, leaks[:5]


@pytest.fixture
def bank_dir(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "tests" / "fixtures" / "knowledge", target)
    return target


def _mutate(bank_dir, fn):
    path = bank_dir / "questions" / "lifecycle.yaml"
    data = yaml.safe_load(path.read_text())
    fn(data["questions"][0])
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _load(bank_dir):
    return load_question_bank(bank_dir, set(load_guide(bank_dir).sections))


def test_fixture_bank_loads(bank_dir):
    bank = _load(bank_dir)
    assert bank.get("fx-q01").rubric[0].id == "label-delay"


def test_unknown_dimension(bank_dir):
    _mutate(bank_dir, lambda q: q["rubric"][0].update(dimension="vibes"))
    with pytest.raises(KnowledgeError, match=r"questions/lifecycle\.yaml:\d+: question fx-q01: point 'label-delay': unknown dimension 'vibes'"):
        _load(bank_dir)


def test_missing_section(bank_dir):
    _mutate(bank_dir, lambda q: q["rubric"][0].update(sections=["nope-section"]))
    with pytest.raises(KnowledgeError, match="question fx-q01: point 'label-delay': section 'nope-section' does not exist"):
        _load(bank_dir)


def test_empty_cues(bank_dir):
    _mutate(bank_dir, lambda q: q["rubric"][1].update(cues=[]))
    with pytest.raises(KnowledgeError, match=r"question fx-q01: field 'rubric\.1\.cues'"):
        _load(bank_dir)


def test_duplicate_point_id(bank_dir):
    _mutate(bank_dir, lambda q: q["rubric"][1].update(id="label-delay"))
    with pytest.raises(KnowledgeError, match="duplicate rubric point id 'label-delay'"):
        _load(bank_dir)


def test_duplicate_question_id_across_files(bank_dir):
    shutil.copy(bank_dir / "questions" / "lifecycle.yaml", bank_dir / "questions" / "monitoring.yaml")
    with pytest.raises(KnowledgeError, match=r"duplicate question id 'fx-q01' \(also at .*lifecycle\.yaml:\d+\)"):
        _load(bank_dir)


def test_unknown_level_and_field(bank_dir):
    _mutate(bank_dir, lambda q: q.update(level="principal", promt="typo"))
    with pytest.raises(KnowledgeError) as err:
        _load(bank_dir)
    assert "unknown level 'principal'" in str(err.value) and "'promt': unknown field" in str(err.value)


def test_broken_yaml_line(bank_dir):
    path = bank_dir / "questions" / "lifecycle.yaml"
    path.write_text(path.read_text().replace("level: mid", "level: [mid"))
    with pytest.raises(KnowledgeError, match=r"questions/lifecycle\.yaml:\d+: broken YAML"):
        _load(bank_dir)


def test_bad_rubric_file(bank_dir):
    (bank_dir / "rubric.yaml").write_text("levels: {junior: x}\n")
    with pytest.raises(KnowledgeError, match="rubric.yaml"):
        _load(bank_dir)


def test_every_misconception_says_how_candidates_state_it(real_bank):
    """Six sentences per misconception (three for a red flag), distinct, none a copy of the claim: the
    grader matches against them."""
    for q in real_bank:
        for f in q.red_flags:
            assert len(f.says) >= 3 and len(set(f.says)) == len(f.says), f"{q.id}/{f.id}"
        for m in q.misconceptions:
            assert len(m.says) >= 6, f"{q.id}/{m.id}"
            assert len(set(m.says)) == len(m.says), f"{q.id}/{m.id}"
            assert all(s.strip().rstrip(".").lower() != m.claim.strip().rstrip(".").lower() for s in m.says), f"{q.id}/{m.id}"


def test_every_key_point_says_how_candidates_make_it(real_bank):
    """Three sentences per rubric point (a brief mention first), distinct, none a copy of the point's
    text, and none the same as a sentence that states one of the question's wrong claims."""
    for q in real_bank:
        wrong = {s.strip().lower() for m in q.misconceptions for s in [m.claim, *m.says]}
        wrong |= {s.strip().lower() for f in q.red_flags for s in [f.text, *f.says]}
        for p in q.rubric:
            assert len(p.says) >= 3 and len(set(p.says)) == len(p.says), f"{q.id}/{p.id}"
            assert all(s.strip().lower() != p.text.strip().lower() and s.strip().lower() not in wrong
                       for s in p.says), f"{q.id}/{p.id}"
