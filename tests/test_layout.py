"""The package layout shows the architecture: small modules, one-way data flow, no import cycles.

Imports are read with ``ast`` (nothing is imported), including those inside functions; imports
under ``if TYPE_CHECKING:`` are type hints only and do not count as dependencies.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

COACH = ROOT / "coach"
MAX_LINES = 400
MAX_TOP_MODULES = 8
# Lower layers first: a package may import from its own layer and the ones before it, never after.
LAYERS = [
    {"coach.errors", "coach.settings", "coach.text"},
    {"coach.content", "coach.store", "coach.llm"},
    {"coach.search"},
    {"coach.grading"},
    {"coach.practice"},
    {"coach.core"},
    {"coach.ui", "coach.cli", "coach"},
]


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def runtime_imports(path: Path) -> set[str]:
    """Modules of ``coach`` that ``path`` imports when it runs (not under TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    visit(sub)
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                if child.module == "coach":
                    found.update(f"coach.{a.name}" for a in child.names)
                elif child.module.startswith("coach."):
                    found.add(child.module)
            elif isinstance(child, ast.Import):
                found.update(a.name for a in child.names if a.name.startswith("coach."))
            visit(child)

    visit(tree)
    return found


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(COACH.rglob("*.py"))}


def _layer(module: str) -> int:
    for index, layer in enumerate(LAYERS):
        if any(module == name or module.startswith(name + ".") for name in layer if name != "coach"):
            return index
    return len(LAYERS) - 1  # the package root (``coach/__init__``) is an edge


def test_few_top_level_modules():
    top = sorted(p.name for p in COACH.glob("*.py"))
    assert len(top) <= MAX_TOP_MODULES, top


def test_no_module_over_the_line_limit():
    long = {str(p.relative_to(ROOT)): n for p in COACH.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def test_no_import_cycle():
    modules = _modules()
    graph = {name: {m for m in runtime_imports(path) if m in modules and m != name} for name, path in modules.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := walk(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for name in sorted(graph):
        if name not in state:
            cycle = walk(name)
            assert cycle is None, " -> ".join(cycle)


def test_data_flows_one_way():
    wrong = []
    for name, path in _modules().items():
        for target in runtime_imports(path):
            if _layer(target) > _layer(name):
                wrong.append(f"{name} imports {target}")
    assert not wrong, wrong


def test_ui_only_calls_the_facade_and_services():
    allowed = ("coach.ui", "coach.errors", "coach.settings", "coach.practice.progress", "coach.practice.whiteboard")
    wrong = [f"{name} imports {target}" for name, path in _modules().items() if name.startswith("coach.ui")
             for target in runtime_imports(path) if not target.startswith(allowed)]
    assert not wrong, wrong


def test_the_checker_sees_imports(tmp_path):
    """The checks above are only as good as the import reader: it must see nested imports and skip type hints."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "from coach.errors import CoachError\n"
        "from coach import core\n"
        "if TYPE_CHECKING:\n    from coach.ui.app import build_app\n"
        "def f():\n    from coach.search.ask import GuideAnswerer\n    import coach.store.schema\n",
        encoding="utf-8",
    )
    assert runtime_imports(sample) == {"coach.errors", "coach.core", "coach.search.ask", "coach.store.schema"}
