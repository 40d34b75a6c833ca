"""`python -m tools.chain` without running anything: validate (every problem at FILE:LINE:COLUMN), compile, graph,
schema, and the exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import fastjsonschema
import pytest
import yaml

from tools.chain.cli import main
from tools.chain.mermaid import mermaid

ROOT = Path(__file__).resolve().parents[2]
CHAINS = ROOT / "tests" / "fixtures" / "chains"
LIBRARY = ROOT / "layers" / "runtime" / "companion" / "chains" / "library"
PACKAGED = sorted(LIBRARY.glob("*.json"))


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("path", [*PACKAGED, CHAINS / "summary-review.yaml"], ids=lambda path: path.name)
def test_every_packaged_chain_and_the_yaml_chain_are_valid(path: Path) -> None:
    # Given a chain shipped with the layer, or the YAML chain written for these tests, and its variables
    # When it is validated
    status, out, err = run_cli("validate", str(path), "--vars", str(CHAINS / "vars.json"))
    # Then there is no problem
    assert (status, err) == (0, "")
    assert "is valid" in out


def test_every_static_problem_and_missing_variable_is_reported_at_once_with_its_place() -> None:
    # Given a chain with a forward reference, a self-reference, an unknown step, a duplicate name, an opaque model id
    # without a family, a schema that does not compile, and input variables the --vars file lacks
    hostile = CHAINS / "hostile.yaml"
    # When it is validated
    status, out, err = run_cli("validate", str(hostile), "--vars", str(CHAINS / "summary-review.vars.yaml"))
    # Then every problem is one line FILE:LINE:COLUMN: field: message, all in one pass
    assert status == 1
    assert out == ""
    lines = err.splitlines()
    expected = [
        f"{hostile}:6:5: steps[0].prompt: refers to steps.second, which is not an earlier step",
        f"{hostile}:9:5: steps[1].prompt: refers to steps.second, which is this step itself",
        f"{hostile}:9:5: steps[1].prompt: refers to steps.nowhere, which is not an earlier step",
        f"{hostile}:10:5: steps[2].name: 'first' is already the name of steps[0]",
        f"{hostile}:6:5: steps[0].prompt: refers to input.topic, which the chain's input does not have",
    ]
    for line in expected:
        assert any(found.startswith(line) for found in lines), line
    assert any(found.startswith(f"{hostile}:14:5: steps[3].model_id: cannot tell the model family") for found in lines)
    assert any(
        found.startswith(f"{hostile}:21:7: steps[4].output.schema: is not a valid JSON Schema") for found in lines
    )
    assert len(lines) == 7


def test_wrong_types_and_an_unknown_family_are_reported_beside_the_static_problems() -> None:
    # Given a chain with a string where a number goes, an unknown model family, and a reference to a later step
    path = CHAINS / "hostile-types.yaml"
    # When it is validated
    status, _, err = run_cli("validate", str(path))
    # Then the three are reported together, each at its line
    assert status == 1
    assert err.splitlines()[0].startswith(f"{path}:8:7: steps[0].inference.max_tokens: Input should be a valid integer")
    assert err.splitlines()[1].startswith(f"{path}:11:5: steps[1].model_family: Input should be 'claude'")
    assert err.splitlines()[2] == f"{path}:6:5: steps[0].prompt: refers to steps.later, which is not an earlier step"


def test_a_json_key_given_twice_is_a_problem_at_its_second_place(tmp_path: Path) -> None:
    # Given a JSON chain whose step names its prompt twice (json.loads would keep the last silently), tabs included
    path = tmp_path / "twice.json"
    path.write_text(
        '{\n\t"name": "twice",\n\t"steps": [\n\t\t{"name": "a", "model_id": "us.amazon.nova-lite-v1:0",\n'
        '\t\t "prompt": "one", "prompt": "two"}\n\t]\n}\n'
    )
    # When it is validated
    status, _, err = run_cli("validate", str(path))
    # Then the second key is named with its line and column
    assert status == 1
    assert err == f"{path}:5:21: steps[0].prompt: the key 'prompt' is given twice (first on line 5)\n"


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("broken.json", '{"name": "x",\n "steps": [}', ":2:12: (root): not valid JSON"),
        ("broken.yaml", "name: x\nsteps: [\n", ":3:1: (root): not valid YAML"),
        ("list.yaml", "- name: x\n", ":1:1: (root): a chain file holds one object"),
        ("nan.json", '{"name": NaN}', ":1:1: (root): NaN is not a JSON value"),
    ],
)
def test_syntax_errors_name_their_place(tmp_path: Path, name: str, text: str, expected: str) -> None:
    # Given a file that is not a chain object
    path = tmp_path / name
    path.write_text(text)
    # When it is validated
    status, _, err = run_cli("validate", str(path))
    # Then one problem names the place
    assert status == 1
    assert err.startswith(f"{path}{expected}")


def test_an_unreadable_file_is_bad_usage(tmp_path: Path) -> None:
    # Given no file, and a file that is not UTF-8
    (tmp_path / "latin.yaml").write_bytes(b"name: caf\xe9\n")
    for path in (tmp_path / "missing.yaml", tmp_path / "latin.yaml"):
        # When it is validated
        status, _, err = run_cli("validate", str(path))
        # Then it is exit status 2 with one error line
        assert status == 2
        assert err.startswith(f"error: {path}: ")


def test_compile_prints_the_chains_own_machine_with_a_state_per_step() -> None:
    # Given a packaged chain
    # When it is compiled
    status, out, _ = run_cli("compile", str(LIBRARY / "outline-draft-critique.json"))
    # Then the ASL is the chain's native JSONata machine: its input checked first, then one state per step by name
    assert status == 0
    machine = json.loads(out)
    assert machine["QueryLanguage"] == "JSONata"
    assert machine["StartAt"] == "Check Input"
    assert {"outline", "draft", "critique"} <= set(machine["States"])
    # And the template's values are left as DefinitionSubstitutions
    assert "${PostprocessResultFunctionArn}" in out


def _state_names(states: dict[str, Any]) -> list[str]:
    names = list(states)
    for state in states.values():
        for inner in [state.get("ItemProcessor") or state.get("Iterator"), *state.get("Branches", [])]:
            if inner:
                names += _state_names(inner["States"])
    return names


def test_graph_draws_every_state_of_the_compiled_machine() -> None:
    # Given a chain with a map stage
    status, out, _ = run_cli("graph", str(LIBRARY / "map-over-items.json"))
    _, compiled, _ = run_cli("compile", str(LIBRARY / "map-over-items.json"))
    # Then every state of the machine and of its Map is a node of the flowchart
    assert status == 0
    assert out.startswith("flowchart TD\n")
    names = _state_names(json.loads(compiled)["States"])
    assert len(names) > len(json.loads(compiled)["States"])
    for name in names:
        assert f'"{name}"' in out or f'"{name} (Map)"' in out


def test_mermaid_draws_choices_catches_parallel_branches_and_the_end() -> None:
    # Given a definition with a Choice, a Catch, a Parallel state and an end
    definition = {
        "StartAt": "Pick",
        "States": {
            "Pick": {"Type": "Choice", "Choices": [{"Next": "Both"}], "Default": "Stop"},
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "Left", "States": {"Left": {"Type": "Pass", "End": True}}},
                    {"StartAt": "Right", "States": {"Right": {"Type": "Pass", "End": True}}},
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Stop"}],
                "End": True,
            },
            "Stop": {"Type": "Fail", "Error": 'Say "no"'},
        },
    }
    # When it is drawn
    text = mermaid(definition)
    # Then the edges follow the transitions and each branch is a subgraph ending in its own exit
    assert "    start --> s0" in text
    assert "    s0 --> s1" in text
    assert "    s0 -->|default| s2" in text
    assert "    s1 -.->|catch States.ALL| s2" in text
    assert "    s2 --> finish" in text
    assert text.count("subgraph") == 3
    assert "s1_b0_in --> s3" in text
    assert "s3 --> s1_b0_out" in text


def test_the_committed_schema_is_what_the_model_generates() -> None:
    # Given the committed JSON Schema of chain files
    committed = json.loads((ROOT / "schemas" / "chain.schema.json").read_text())
    # When the schema command prints it from the model
    status, out, _ = run_cli("schema")
    # Then they are equal (regenerate with `make generate-schema`)
    assert status == 0
    assert json.loads(out) == committed


@pytest.mark.parametrize("path", [*PACKAGED, CHAINS / "summary-review.yaml"], ids=lambda path: path.name)
def test_editors_accept_every_packaged_chain_and_the_yaml_chain_against_the_schema(path: Path) -> None:
    # Given the committed schema, as an editor's JSON Schema validator reads it
    validate = fastjsonschema.compile(json.loads((ROOT / "schemas" / "chain.schema.json").read_text()))
    # When a good chain file is checked against it
    # Then it passes (a bad one does not)
    validate(yaml.safe_load(path.read_text()))
    with pytest.raises(fastjsonschema.JsonSchemaException):
        validate(yaml.safe_load((CHAINS / "hostile-types.yaml").read_text()))


def test_a_chain_file_may_name_its_schema(tmp_path: Path) -> None:
    # Given a JSON chain file with "$schema", as editors want it
    chain = json.loads((LIBRARY / "map-over-items.json").read_text())
    path = tmp_path / "with-schema.json"
    path.write_text(json.dumps({"$schema": "../schemas/chain.schema.json", **chain}))
    # When it is validated
    status, _, err = run_cli("validate", str(path))
    # Then the key is no problem
    assert (status, err) == (0, "")
