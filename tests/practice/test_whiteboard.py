"""The whiteboard: Mermaid flowcharts and plain arrow lists read as sentences; bad lines named."""

import pytest

from coach.errors import QueryError
from coach.practice.whiteboard import mermaid_block, read_diagram

FLOW = """flowchart LR
  %% a comment
  T[Transactions] -->|velocity counts| S(Stream processor)
  S --> F[(Feature store)] --> M{{Scoring model}}
  M -- scores --> D[Decision service]
  subgraph offline
    L[Labels] --> M
  end
"""


def test_mermaid_edges_become_sentences():
    diagram = read_diagram(FLOW)
    assert diagram.sentences() == [
        "In my design Transactions sends velocity counts to the Stream processor.",
        "In my design the Stream processor feeds the Feature store.",
        "In my design the Feature store feeds the Scoring model.",
        "In my design the Scoring model sends scores to the Decision service.",
        "In my design Labels feeds the Scoring model.",
    ]
    assert diagram.mermaid == FLOW.strip() and mermaid_block(diagram).startswith("```mermaid\nflowchart LR")


def test_plain_arrows_become_mermaid_for_the_preview():
    diagram = read_diagram("- feature store -> ranker: candidate features\nKafka → stream processor")
    assert diagram.sentences() == ["In my design the feature store sends candidate features to the ranker.",
                                   "In my design Kafka feeds the stream processor."]
    assert diagram.mermaid.splitlines() == ["flowchart LR", '  n1["feature store"] -->|"candidate features"| n2["ranker"]',
                                            '  n3["Kafka"] --> n4["stream processor"]']


def test_fenced_block_and_blank_input():
    assert read_diagram("```mermaid\ngraph TD\n  A[x y] --> B[z]\n```").sentences() == ["In my design the x y feeds the z."]
    assert read_diagram("   ") is None and read_diagram(None) is None


@pytest.mark.parametrize("text, message", [
    ("just some words", r"diagram line 1: write one arrow per line"),
    ("flowchart LR\n  A[x] --> B[y]\n  C[z] ?? D", r"diagram line 3: expected an arrow \(-->\) after 'C'"),
    ("flowchart LR\n  A[x]\n  B[y]", r"no arrows"),
    ("flowchart LR\n  A & B --> C", r"'&' node groups are not supported"),
])
def test_bad_diagrams_name_the_line(text, message):
    with pytest.raises(QueryError, match=message):
        read_diagram(text)


def test_labels_cannot_break_out_of_the_preview():
    diagram = read_diagram('a "quoted" (name) -> b[x]: |evil| {y}')
    names = diagram.mermaid.splitlines()[1]
    assert names.count('"') == 6 and not any(c in names.split('"')[1] + names.split('"')[3] for c in '[](){}|')
