"""Numbers that add up: every derived figure of a question context is recomputed from its formula."""

from __future__ import annotations

import pytest

from coach.content.facts import FormulaError, check_facts, evaluate
from coach.content.guide import load_guide
from coach.content.questions import Fact, load_question_bank
from coach.errors import KnowledgeError
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def bank():
    guide = load_guide(ROOT / "knowledge")
    return load_question_bank(ROOT / "knowledge", set(guide.sections))


def test_every_question_states_its_figures_as_facts(bank):
    missing = [q.id for q in bank if not q.facts]
    assert not missing, missing


def test_every_derived_figure_adds_up(bank):
    wrong = [f"{q.id}: {m}" for q in bank for m in check_facts(q.facts)[1]]
    assert not wrong, wrong


def test_the_bank_derives_figures():
    """Rates times periods, totals from parts: the check above has formulas to recompute."""
    guide = load_guide(ROOT / "knowledge")
    bank = load_question_bank(ROOT / "knowledge", set(guide.sections))
    assert sum(1 for q in bank for f in q.facts if f.formula) >= len(bank)


def test_formulas_are_arithmetic_only():
    known = {"tps": 10_000.0, "days": 30.0}
    assert evaluate("tps * 86400 * days", known) == pytest.approx(2.592e10)
    assert evaluate("(tps - 4000) / 2", known) == 3000
    for bad in ["__import__('os')", "tps ** 2", "unknown * 2", "tps / 0", "tps +"]:
        with pytest.raises(FormulaError):
            evaluate(bad, known)


def test_a_figure_that_does_not_add_up_is_reported():
    facts = [Fact(name="tps", value=10_000, unit="tx/s"),
             Fact(name="per_month", value=1e9, unit="tx/month", formula="tps * 86400 * 30")]
    errors, mismatches = check_facts(facts)
    assert not errors
    assert mismatches and "per_month" in mismatches[0] and "2.592e+10" in mismatches[0]
    facts[1] = Fact(name="per_month", value=2.6e10, unit="tx/month", formula="tps * 86400 * 30")
    assert check_facts(facts) == ([], [])


def test_a_broken_formula_names_file_line_and_fact(tmp_path):
    import shutil

    import yaml

    target = tmp_path / "knowledge"
    shutil.copytree(ROOT / "tests" / "fixtures" / "knowledge", target)
    path = target / "questions" / "lifecycle.yaml"
    data = yaml.safe_load(path.read_text())
    data["questions"][0]["facts"] = [{"name": "tps", "value": 2000, "unit": "tx/s"},
                                     {"name": "daily", "value": 1.7e8, "unit": "tx/day", "formula": "tps * seconds"}]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    guide = load_guide(target)
    with pytest.raises(KnowledgeError, match=r"questions/lifecycle.yaml:\d+: question fx-q01: fact 'daily'.*'seconds'"):
        load_question_bank(target, set(guide.sections))
