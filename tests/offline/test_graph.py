"""The execution graph: a definition's states and transitions, what a run did in them, Mermaid text and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sfn_offline.cli import main
from sfn_offline.graph import GraphError, build_graph, overlay, to_mermaid
from sfn_offline.html_report import PAYLOAD_CHARS, ExecutionView, bounded, render_html

from tests.offline.conftest import PICTURES, PicturesRun

ALL_KINDS: dict[str, Any] = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.kind", "StringEquals": "fan", "Next": "Fan Out"},
                {"And": [{"Variable": "$.n", "NumericGreaterThan": 2}, {"Variable": "$.x", "IsPresent": True}],
                 "Next": "Each Item"},
            ],
            "Default": "Give Up",
        },
        "Fan Out": {
            "Type": "Parallel",
            "Branches": [
                {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                {"StartAt": "Right", "States": {"Right": {"Type": "Wait", "Seconds": 1, "End": True}}},
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Give Up"}],
            "End": True,
        },
        "Each Item": {
            "Type": "Map",
            "ItemProcessor": {
                "StartAt": "Work",
                "States": {
                    "Work": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::lambda:invoke",
                        "Retry": [{"ErrorEquals": ["Busy"], "MaxAttempts": 4}],
                        "End": True,
                    }
                },
            },
            "Next": "Done",
        },
        "Done": {"Type": "Succeed"},
        "Give Up": {"Type": "Fail", "Error": "Nope"},
    },
}  # fmt: skip


def _edges(graph: Any) -> set[tuple[str, str, str, str]]:
    names = {node.id: node.name for node in graph.nodes.values()}
    edges = set()
    pending = [graph.root]
    while pending:
        scope = pending.pop()
        edges |= {(names[e.source], names[e.target], e.kind, e.label) for e in scope.edges}
        pending += [inner for node in scope.nodes for inner in node.scopes]
    return edges


def test_every_kind_of_transition_becomes_an_edge() -> None:
    # Given a definition with a Choice (a comparison, an And rule, Default), a Parallel with a Catch, a Map whose
    # task retries, Succeed and Fail
    # When it is read into a graph
    graph = build_graph(ALL_KINDS)

    # Then each transition is an edge of its kind, the Choice rules labelled with their conditions
    edges = _edges(graph)
    assert ("Start", "Route", "start", "") in edges
    assert ("Route", "Fan Out", "choice", '$.kind == "fan"') in edges
    assert ("Route", "Each Item", "choice", "($.n > 2 and $.x is present: true)") in edges
    assert ("Route", "Give Up", "default", "Default") in edges
    assert ("Fan Out", "Give Up", "catch", "catch States.ALL") in edges
    assert ("Work", "Work", "retry", "retry Busy x4") in edges
    assert ("Each Item", "Done", "next", "") in edges
    assert {("Fan Out", "End", "end", ""), ("Done", "End", "end", ""), ("Give Up", "End", "end", "")} <= edges
    # And the Parallel's branches and the Map's processor are scopes of their own, with no edge out of them
    fan = next(node for node in graph.nodes.values() if node.name == "Fan Out")
    assert [[n.name for n in scope.nodes] for scope in fan.scopes] == [["Left"], ["Right"]]
    assert not any(edge.kind == "end" for scope in fan.scopes for edge in scope.edges)
    work = next(node for node in graph.nodes.values() if node.name == "Work")
    assert work.map_path == (next(n.id for n in graph.nodes.values() if n.name == "Each Item"),)


def test_mermaid_draws_subgraphs_and_quotes_labels() -> None:
    # Given the graph of every kind of state
    # When it is drawn as Mermaid
    text = to_mermaid(build_graph(ALL_KINDS))

    # Then it is a top-down flowchart with one subgraph per Parallel branch and Map processor
    assert text.startswith("flowchart TD\n")
    assert text.count("subgraph ") == 4  # Fan Out, its two branches, Each Item
    assert text.count("\n    end\n") + text.count("\n        end\n") + text.count("\n            end\n") >= 4
    # And quotes inside labels are entity codes (a raw quote would end the label)
    assert '|"$.kind == #quot;fan#quot;"|' in text
    # And no node is called "end", which Mermaid reads as the end of a subgraph
    assert not re.search(r"^\s*end[\[(]", text, re.MULTILINE)
    assert "n_end((End))" in text


@pytest.mark.parametrize(
    ("definition", "place"),
    [
        ({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}, "States.A.Next: no state 'B'"),
        ({"StartAt": "Z", "States": {"A": {"Type": "Pass", "End": True}}}, "States.StartAt: no state 'Z'"),
        ({"StartAt": "A", "States": {"A": {"Type": "Taskk"}}}, "States.A.Type: not a state type: 'Taskk'"),
        (
            {"StartAt": "A", "States": {"A": {"Type": "Map", "End": True, "ItemProcessor": {"StartAt": "X"}}}},
            "States.A.ItemProcessor: States: missing or empty",
        ),
    ],
)
def test_a_broken_definition_names_the_place(definition: dict[str, Any], place: str) -> None:
    # Given a definition with a dangling transition, a missing StartAt state, a bad type or an empty processor
    # When it is read, Then the error names the file and the place
    with pytest.raises(GraphError, match=re.escape(f"my.asl.json: {place}")):
        build_graph(definition, "my.asl.json")


def test_the_run_overlay_follows_each_map_iteration(pictures_run: PicturesRun) -> None:
    # Given the review run: three answers, the second rejected and caught, then a nested execution
    assert pictures_run.status == 0
    # When its page's data is read
    data = _page_data(pictures_run.html)
    review = data["executions"][0]
    names = {node["id"]: node["name"] for node in review["nodes"]}
    top = review["run_frames"][""]
    # Then the top frame has the path taken, with times, and the Choice's branch not taken is absent
    assert {names[key]: run["status"] for key, run in top["states"].items()} == {
        "Prepare Review": "succeeded",
        "Review Each Answer": "succeeded",
        "Notify Reviewer": "succeeded",
        "Any Rejected": "succeeded",
        "Review Needs Work": "succeeded",
    }
    assert all(run["duration_ms"] >= 0 for run in top["states"].values())
    # And each iteration has its own frame: the rejected answer's Check Answer was caught, the others succeeded
    [iterations] = top["iterations"].values()
    assert [(item["index"], item["status"]) for item in iterations["items"]] == [
        (0, "succeeded"),
        (1, "succeeded"),
        (2, "succeeded"),
    ]
    frames = [review["run_frames"][item["frame"]]["states"] for item in iterations["items"]]
    by_name = [{names[key]: run for key, run in frame.items()} for frame in frames]
    assert [frame["Check Answer"]["status"] for frame in by_name] == ["succeeded", "caught", "succeeded"]
    assert by_name[1]["Check Answer"]["error"] == "AnswerRejectedError"
    assert "Mark Rejected" in by_name[1]
    assert "Mark Rejected" not in by_name[0]
    assert json.loads(by_name[0]["Check Answer"]["input"]) == {"answer": "good answer"}
    # And the nested execution is drawn too, linked from the state that started it
    assert [execution["title"].split(" / ")[0] for execution in data["executions"]] == [
        "ReviewStateMachine",
        "NotifyStateMachine",
    ]
    notify = next(key for key, name in names.items() if name == "Notify Reviewer")
    assert top["states"][notify]["executions"] == [data["executions"][1]["arn"]]


def test_the_run_mermaid_colours_the_path_taken(pictures_run: PicturesRun) -> None:
    # Given the review run's Mermaid file
    text = pictures_run.mermaid.read_text()
    ids = dict(re.findall(r'(n\d+)[\[{]"([^<"]+)', text))
    by_name = {name: key for key, name in ids.items()}
    assigned = {key: css for members, css in re.findall(r"^\s*class (\S+) (\w+)$", text, re.MULTILINE)
                for key in members.split(",")}  # fmt: skip
    # Then the caught task, the path taken and the branch not taken each have their class
    assert assigned[by_name["Check Answer"]] == "caught"
    assert assigned[by_name["Review Needs Work"]] == "succeeded"
    assert assigned[by_name["Review Passed"]] == "notTaken"
    assert "classDef failed " in text


def test_a_large_payload_is_cut_with_a_note() -> None:
    # Given a payload larger than the page keeps
    text = "x" * (PAYLOAD_CHARS + 1234)
    # When it is bounded, Then it keeps the first characters and says how much was left out
    cut = bounded(text)
    assert cut is not None
    assert cut.startswith("x" * PAYLOAD_CHARS)
    assert cut.endswith("(truncated: 1,234 more characters of 5,234)")


def test_a_payload_cannot_close_the_script_it_is_embedded_in() -> None:
    # Given a run whose state input holds a closing script tag
    graph = build_graph({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    history = [
        {"id": 1, "previousEventId": 0, "type": "ExecutionStarted", "executionStartedEventDetails": {}},
        {"id": 2, "previousEventId": 1, "type": "PassStateEntered",
         "stateEnteredEventDetails": {"name": "A", "input": '"</script><script>alert(1)</script>"'}},
    ]  # fmt: skip
    # When the page is rendered
    page = render_html([ExecutionView("t", graph, overlay(graph, history, "RUNNING"))], "t")
    # Then the payload is in it only escaped
    assert "</script><script>alert(1)" not in page
    assert page.count("</script>") == 2  # The data element and the page's own script.


def test_graph_command_prints_mermaid_and_writes_the_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a template's machine
    page = tmp_path / "review.html"
    # When the graph command draws it without running it
    status = main(["graph", "ReviewStateMachine", "--template", str(PICTURES / "template.yaml"), "--html", str(page)])
    # Then Mermaid goes to stdout, uncoloured, and the page is written
    assert status == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart TD")
    assert '"Check Answer"' in out
    assert "classDef" not in out
    data = _page_data(page)
    assert data["executions"][0]["ran"] is False


def test_graph_command_bad_definition_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a definition whose Choice rule goes nowhere
    definition = tmp_path / "broken.asl.json"
    definition.write_text(
        json.dumps({"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Next": "Gone"}]}}})
    )
    # When it is drawn
    status = main(["graph", "--definition", str(definition)])
    # Then: exit 2, one line naming the file and the place, no traceback
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err == f"error: {definition}: States.C.Choices[0].Next: no state 'Gone' in this scope\n"


def _page_data(page: Path) -> dict[str, Any]:
    found = re.search(r'<script id="run-data" type="application/json">(.*?)</script>', page.read_text(), re.DOTALL)
    assert found is not None
    data: dict[str, Any] = json.loads(found[1])
    return data


def test_run_with_a_graph_file_in_no_directory_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an --html path whose folder does not exist
    target = tmp_path / "missing" / "graph.html"
    # When the run is asked to draw there
    status = main(["run", "ReviewStateMachine", "--template", str(PICTURES / "template.yaml"), "--html", str(target)])
    # Then it stops before running: exit 2, one line naming the file and the option
    captured = capsys.readouterr()
    assert status == 2
    assert captured.err == f"error: {target}: --html: no such directory {str(target.parent)!r}\n"
