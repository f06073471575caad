"""The figures of a question's context as numbers, and the arithmetic that ties them together.

A fact may give a ``formula`` over facts listed before it ("tps_avg * 86400 * 30"); the formula
is read with ``ast`` (numbers, names, + - * / and parentheses only), never ``eval``.
"""

from __future__ import annotations

import ast
import operator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from coach.content.questions import Fact

TOLERANCE = 0.10  # a stated figure may differ from its formula by this share (rounding in the prose)
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


class FormulaError(ValueError):
    """A formula that cannot be computed: unknown name, operator or syntax."""


def evaluate(formula: str, known: dict[str, float]) -> float:
    """Value of ``formula`` with the facts in ``known``."""
    try:
        tree = ast.parse(formula, mode="eval")
    except SyntaxError:
        raise FormulaError(f"formula {formula!r} is not arithmetic") from None

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in known:
                raise FormulaError(f"formula {formula!r} uses {node.id!r}, which is not a fact listed before it")
            return known[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            right = walk(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                raise FormulaError(f"formula {formula!r} divides by zero")
            return _OPS[type(node.op)](walk(node.left), right)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -walk(node.operand)
        raise FormulaError(f"formula {formula!r}: only numbers, fact names, + - * / and parentheses are allowed")

    return walk(tree)


def check_facts(facts: list["Fact"]) -> tuple[list[str], list[str]]:
    """(errors that make a formula unusable, figures that disagree with their formula by more than 10%)."""
    errors, mismatches = [], []
    known: dict[str, float] = {}
    for fact in facts:
        if fact.formula:
            try:
                got = evaluate(fact.formula, known)
            except FormulaError as exc:
                errors.append(f"fact {fact.name!r}: {exc}")
            else:
                if abs(got - fact.value) > TOLERANCE * max(abs(fact.value), 1e-12):
                    mismatches.append(f"fact {fact.name!r} says {fact.value:g} {fact.unit} but {fact.formula} = {got:g}")
        known[fact.name] = fact.value
    return errors, mismatches
