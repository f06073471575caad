"""The whiteboard: a candidate's diagram read as sentences the grader can credit.

A diagram is a Mermaid flowchart (``flowchart LR`` / ``graph TD`` with ``A[Label] -->|text| B``)
or a plain list of arrows, one per line (``feature store -> ranker: features``). Each edge
becomes one sentence ("In my design the feature store feeds the ranker with features."), so a
diagram earns the points it shows, and only those: a box on its own says nothing about how the
parts work together, so lone nodes give no sentence. Plain lists are turned into Mermaid for the
preview, which Gradio renders offline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.errors import QueryError

MAX_EDGES = 60
DIAGRAM_SENTENCE = "In my design "  # how every sentence read from a diagram starts
_HEADER = re.compile(r"^\s*(flowchart|graph)\b(\s+(TB|TD|BT|RL|LR))?\s*;?\s*$", re.I)
_SKIP = re.compile(r"^\s*(%%|subgraph\b|end\s*$|style\b|classDef\b|class\b|linkStyle\b|click\b|direction\b)", re.I)
# A node: id, optionally with a label in one of Mermaid's shapes: A[x] A(x) A((x)) A{x} A[(x)] A>x] A[/x/]
_NODE = re.compile(
    r"""\s*(?P<id>[A-Za-z0-9_][\w.-]*)\s*
        (?P<shape>\(\(.*?\)\)|\{\{.*?\}\}|\[\(.*?\)\]|\[\[.*?\]\]|\[/.*?/\]|\[\\.*?\\\]|\[.*?\]|\(.*?\)|\{.*?\}|>.*?\])?\s*""",
    re.X)
# An arrow with an optional label: -->, ---, -.->, ==>, --text-->, -->|text|
_ARROW = re.compile(r"\s*(?:(?:--|==|-\.)\s*(?P<inline>[^-=|>][^|>]*?)\s*(?:-->|==>|\.->|---)|"
                    r"(?:-->|==>|-\.->|---|-\.-|===|--o|--x|<-->))\s*(?:\|(?P<label>[^|]*)\|)?\s*")
_PLAIN = re.compile(r"^\s*(?P<a>[^>:]+?)\s*(?:->|→|=>|-->)\s*(?P<b>[^:]+?)\s*(?::\s*(?P<label>.+?))?\s*$")
_UNSAFE = re.compile(r"[\[\](){}<>|\"`;]")


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str = ""

    def sentence(self) -> str:
        a, b = _article(self.source), _article(self.target)
        if self.label:
            return f"{DIAGRAM_SENTENCE}{a} sends {self.label} to {b}."
        return f"{DIAGRAM_SENTENCE}{a} feeds {b}."


@dataclass(frozen=True)
class Diagram:
    source: str          # what the candidate typed
    mermaid: str         # Mermaid to render (the source itself, or built from a plain list)
    edges: tuple[Edge, ...]

    def sentences(self) -> list[str]:
        return [e.sentence() for e in self.edges]

    def as_answer_text(self) -> str:
        return " ".join(self.sentences())


def _article(name: str) -> str:
    """'the ranker' for a common noun; proper names and acronyms ('Kafka', 'CDN') stand alone."""
    words = name.split()
    if not words:
        return name
    first = words[0]
    if first.lower() in {"the", "a", "an", "each", "every", "our", "my"} or first[:1].isupper() and (
            first.isupper() or len(words) == 1):
        return name
    return f"the {name}"


def _label(shape: str | None, node_id: str) -> str:
    if not shape:
        return node_id.replace("_", " ")
    inner = shape.strip("[](){}>/\\")
    return " ".join(inner.strip("\"'").split()) or node_id


def _clean(text: str) -> str:
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.I)
    return " ".join(text.replace("\"", "").split()).strip(" .")


def _mermaid_edges(lines: list[tuple[int, str]]) -> list[Edge]:
    labels: dict[str, str] = {}
    chains: list[list[tuple[str, str]]] = []  # per line: node ids with the label of the arrow into them
    for number, line in lines:
        for statement in line.split(";"):
            rest, ids = statement, []
            arrow_label = ""
            while rest.strip():
                node = _NODE.match(rest)
                if node is None or not node.group("id"):
                    raise QueryError(f"diagram line {number}: cannot read {statement.strip()!r}; write edges as "
                                     "A[Feature store] --> B[Ranker] or 'feature store -> ranker'")
                node_id = node.group("id")
                if node.group("shape"):
                    labels[node_id] = _clean(_label(node.group("shape"), node_id))
                ids.append((node_id, arrow_label))
                rest = rest[node.end():]
                if not rest.strip():
                    break
                if rest.lstrip().startswith("&"):
                    raise QueryError(f"diagram line {number}: '&' node groups are not supported; "
                                     "write one edge per line")
                arrow = _ARROW.match(rest)
                if arrow is None:
                    raise QueryError(f"diagram line {number}: expected an arrow (-->) after {node_id!r}")
                arrow_label = _clean(arrow.group("label") or arrow.group("inline") or "")
                rest = rest[arrow.end():]
            if len(ids) > 1:
                chains.append(ids)
    edges = []
    for chain in chains:
        for (a, _), (b, label) in zip(chain, chain[1:]):
            edges.append(Edge(labels.get(a, a.replace("_", " ")), labels.get(b, b.replace("_", " ")), label))
    return edges


def _plain_edges(lines: list[tuple[int, str]]) -> list[Edge]:
    edges = []
    for number, line in lines:
        match = _PLAIN.match(line.lstrip("-*• ").strip())
        if match is None:
            raise QueryError(f"diagram line {number}: write one arrow per line, e.g. 'feature store -> ranker' "
                             "(or a Mermaid flowchart starting with 'flowchart LR')")
        edges.append(Edge(_clean(match.group("a")), _clean(match.group("b")), _clean(match.group("label") or "")))
    return edges


def _as_mermaid(edges: list[Edge]) -> str:
    ids: dict[str, str] = {}
    lines = ["flowchart LR"]
    for edge in edges:
        for name in (edge.source, edge.target):
            ids.setdefault(name, f"n{len(ids) + 1}")
        a, b = (f'{ids[n]}["{_UNSAFE.sub(" ", n)}"]' for n in (edge.source, edge.target))
        label = f'|"{_UNSAFE.sub(" ", edge.label)}"|' if edge.label else ""
        lines.append(f"  {a} -->{label} {b}")
    return "\n".join(lines)


def read_diagram(text: str) -> Diagram | None:
    """The diagram in ``text`` (None when blank); a line that cannot be read raises QueryError naming it."""
    if not isinstance(text, str) or not text.strip():
        return None
    body = text.strip()
    if body.startswith("```"):
        body = re.sub(r"^```\s*(mermaid)?\s*\n?|\n?```\s*$", "", body).strip()
    raw = [(i, line) for i, line in enumerate(body.splitlines(), start=1) if line.strip()]
    if raw and _HEADER.match(raw[0][1]):
        edges = _mermaid_edges([(i, line) for i, line in raw[1:] if not _SKIP.match(line)])
        mermaid = body
    else:
        edges = _plain_edges(raw)
        mermaid = _as_mermaid(edges)
    if not edges:
        raise QueryError("the diagram has no arrows: connect the components (A --> B) so it shows how data flows")
    if len(edges) > MAX_EDGES:
        raise QueryError(f"the diagram has {len(edges)} arrows; the limit is {MAX_EDGES}")
    unique = list(dict.fromkeys(e for e in edges if e.source and e.target))
    return Diagram(source=text.strip(), mermaid=mermaid, edges=tuple(unique))


def mermaid_block(diagram: Diagram | None) -> str:
    """Markdown that renders the diagram (Gradio draws ```mermaid blocks offline)."""
    return "" if diagram is None else f"```mermaid\n{diagram.mermaid}\n```"
