"""The generic chain interpreter (``statemachines/prompt_chain.asl.yaml``), generated for inline chains.

A chain sent inline to ``POST /chains`` (or to ``ChainBatchStateMachine``) has no machine of its own; this one runs any
chain's plan (``companion.chains.execution_input``) stage by stage. Its structure is ``interpreter.yaml`` beside this
module; what is family-specific (how a text step's answer is read in the invoke state, how a rejected answer's text is
found for the correction turn) is filled in from ``companion.codec.jsonata``, every retry policy from
``companion.retry_policies``, and the budgets below, so no family's field path or policy is written twice.

Budgets: results live in workflow variables, whose Assign holds at most 256 KiB and whose execution holds at most
10 MiB; the chain's output and an inline Map's results must fit a 256 KiB state payload. A record therefore keeps at
most ``TEXT_BUDGET_CHARS`` of answer text inline (a longer answer stays in S3 and the record holds a preview and its
reference), and an inline Map runs at most ``MAP_ITEMS`` items. A longer map runs as a Distributed Map (items, the
chain's variables and the results in S3) in ``prompt_chain.asl.yaml``, the Standard machine's definition; the Express
machine's, ``prompt_chain_inline.asl.yaml``, has no Distributed Map (Step Functions runs them in Standard workflows
only) and fails such a map as ``PromptChain.MapTooLarge``.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

from companion.chains.compiler.settings import CompileSettings
from companion.codec.jsonata import TEXT_FAMILIES, answer_expression
from companion.retry_policies import retry_policy
from companion.steps.preprocess import MAPS_FOLDER
from companion.usage import USAGE_MARKER

_SKELETON = Path(__file__).resolve().parent / "interpreter.yaml"

TEXT_BUDGET_CHARS = 2048
"""Answer text a record keeps inline; over it the record holds a preview and the reference to the answer in S3."""
PREVIEW_CHARS = 500
MAP_ITEMS = 100
"""Items an inline Map runs: each result is a record of at most about ``MAP_RECORD_BYTES``, and all must fit 256 KiB."""
MAP_RECORD_BYTES = 2 * 1024 + 512
CAUSE_BUDGET_CHARS = 32_000
"""A Fail state's Cause holds at most 32,768 characters; the completed records are left out above this."""

_POLICIES = ("lambda_transient", "bedrock_invoke_transient", "s3_transient")
_ITEM_SUFFIX = " For Item"
FAIL_ITEM = "Fail Item"


def _readers() -> str:
    members = ",\n".join(
        f"    {json.dumps(family.value)}: function($b) {{\n      {answer_expression(family)}\n    }}"
        for family in sorted(TEXT_FAMILIES)
    )
    return "{\n" + members + "\n  }"


def _unaccepted_sum(usages: str) -> str:
    total = '$sum($append([0], $filter({0}.{1}, function($v) {{ $type($v) = "number" }})))'
    return (
        f'{{"input_tokens": {total.format(usages, "input_tokens")}, '
        f'"output_tokens": {total.format(usages, "output_tokens")}}}'
    )


def _invoke_output() -> str:
    return (
        "{% (\n"
        "  $given := $states.input;\n"
        '  $in := $merge([$given, {"request": $sift($given.request, function($v, $k) { $k != "Body" })}]);\n'
        "  $s := $in.step;\n"
        "  $family := $s.step.model_family;\n"
        f"  $readers := {_readers()};\n"
        "  $read := $lookup($readers, $family);\n"
        '  $inline := $s.output.format = "text" and $s.output.on_truncation = "report" and $exists($read);\n'
        "  $b := $states.result.Body;\n"
        "  $exists($in.request.Output) ? $in\n"
        "  : $inline ? (\n"
        "      $answer := $read($b);\n"
        '      $not($type($answer.text) = "string") or $answer.text = ""\n'
        "        ? {\n"
        '            "failed": true,\n'
        '            "Error": "ResponseDecodingError",\n'
        '            "Cause": $string({\n'
        '              "step": $in.run.step,\n'
        '              "error": "ResponseDecodingError",\n'
        '              "cause": "no answer text in the " & $family & " response"\n'
        "            }),\n"
        f'            "unaccepted": {_unaccepted_sum("$in.unaccepted")}\n'
        "          }\n"
        f"        : ($long := $length($answer.text) > {TEXT_BUDGET_CHARS};\n"
        '          $merge([$in, {"record": $merge([{\n'
        f'            "text": $long ? $substring($answer.text, 0, {PREVIEW_CHARS}) : $answer.text, "json": null,\n'
        '            "usage": {"input_tokens": $answer.input_tokens, "output_tokens": $answer.output_tokens}\n'
        '          }, $long ? {"truncated": true} : {}])}, $long ? {"answer": $b} : {}]))\n'
        "    )\n"
        '  : $merge([$in, {"answer": $b}])\n'
        ") %}"
    )


def _correction_output() -> str:
    # resolve-output hands over a normalized result (it has a family); an inline answer is the family's own Body.
    marker = json.dumps(USAGE_MARKER)
    return (
        "{% (\n"
        "  $in := $states.input;\n"
        "  $b := $in.answer;\n"
        f"  $readers := {_readers()};\n"
        "  $read := $lookup($readers, $in.step.step.model_family);\n"
        "  $text := $exists($b.family) ? $b.text : ($exists($read) ? $read($b).text);\n"
        '  $said := $type($text) = "string" and $text != "" ? $text : $string($b);\n'
        "  $c := $in.invalid.Cause;\n"
        '  $m := $type($c) = "string" and $substring($c, 0, 1) = "{" and $contains($c, "errorMessage")\n'
        "    ? $parse($c).errorMessage : $string($c);\n"
        f"  $used := $contains($m, {marker}) ? $parse($substringAfter($m, {marker}));\n"
        "  {\n"
        '    "run": $in.run,\n'
        '    "step": $in.step,\n'
        '    "variables": $in.variables,\n'
        '    "variables_s3_uri": $in.variables_s3_uri,\n'
        f'    "fixes": $append($in.fixes, [{{"answer": $said, "error": $substringBefore($m, {marker})}}]),\n'
        '    "unaccepted": $append($in.unaccepted, $exists($used) ? [$used] : [])\n'
        "  }\n"
        ") %}"
    )


_MAP_ITEMS = """$stage := $plan[$index];
$items := $stage.kind = "map" ? $reduce(
  $split($stage.items, "."),
  function($value, $segment) { $type($value) = "array" ? $value[$number($segment)] : $lookup($value, $segment) },
  {"steps": $steps}
) : [];"""

# What every field of the stage's Assign reads from the Map's result (an Assign field cannot see its siblings).
_STAGE_RESULTS = """$stage := $plan[$index];
$results := $append([], $states.result);
$done := function($r) { $not($r.failed = true) };
$failures := $append([], $filter($results, function($r) { $r.failed = true }));
$completed := $append([], $filter($results, $done));
$total := function($list, $field) {
  $sum($append([0], $map($list, function($u) { $type($lookup($u, $field)) = "number" ? $lookup($u, $field) : 0 })))
};
$added := $stage.kind = "map"
  ? {$stage.name: {"results": $append([], $map($results, function($r) { $done($r) ? $r : null }))}}
  : $merge($append([], $map($results, function($r, $n) { $done($r) ? {$stage.steps[$n].step.step: $r} : {} })));
$final_added := $stage.kind = "parallel" ? $added : $lookup($added, $stage.name)"""


def _filled(value: Any, text: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _filled(item, text) for key, item in value.items()}
    if isinstance(value, list):
        return [_filled(item, text) for item in value]
    if isinstance(value, str):
        if value.startswith("@") and value.endswith("@") and value[1:-1] in _POLICIES:
            return retry_policy(value[1:-1])
        if value in text:
            return text[value]
        for placeholder, replacement in text.items():
            value = _placed(value, placeholder, replacement)
    return value


def _placed(value: str, placeholder: str, replacement: str) -> str:
    # A placeholder alone at the start of a line gets its lines indented like it, so the YAML stays readable.
    def indented(match: re.Match[str]) -> str:
        pad = match.group(1)
        return pad + replacement.replace("\n", "\n" + pad)

    value = re.sub(rf"^([ \t]*){re.escape(placeholder)}", indented, value, flags=re.MULTILINE)
    return value.replace(placeholder, replacement)


def _item_workflow(step_flow: dict[str, Any]) -> dict[str, Any]:
    """The step flow as a Distributed Map's Express child: its states renamed (state names are unique in a whole
    definition), and a failed step failing the child (the map run's first failure fails the chain)."""

    def renamed(name: str) -> str:
        return f"{name}{_ITEM_SUFFIX}"

    def retargeted(state: dict[str, Any]) -> dict[str, Any]:
        state = copy.deepcopy(state)
        for holder in [state, *state.get("Choices", []), *state.get("Catch", [])]:
            if "Next" in holder:
                holder["Next"] = renamed(holder["Next"])
        if "Default" in state:
            state["Default"] = renamed(state["Default"])
        return state

    states = {renamed(name): retargeted(state) for name, state in step_flow["States"].items()}
    describe = states[renamed("Describe Step Failure")]
    del describe["End"]
    describe["Next"] = FAIL_ITEM
    route = states[renamed("Route Answer")]
    route["Choices"][0]["Next"] = FAIL_ITEM
    states[FAIL_ITEM] = {
        "Type": "Fail",
        "Comment": "The failure record, as the child's error: the map run fails at its first failed item.",
        "Error": "{% $states.input.Error %}",
        "Cause": "{% $states.input.Cause %}",
    }
    return {
        "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
        "StartAt": renamed(step_flow["StartAt"]),
        "States": states,
    }


def interpreter_definition(*, distributed_maps: bool = True, map_items: int = MAP_ITEMS) -> dict[str, Any]:
    """The generic interpreter's ASL (JSONata), family facts, retry policies and budgets filled in.

    Parameters
    ----------
    distributed_maps
        Run a map over more than ``MAP_ITEMS`` items as a Distributed Map (Standard workflows only); without it, such
        a map fails as ``PromptChain.MapTooLarge`` (the Express machine's definition).
    map_items
        The most items a map runs inline (tests lower it to reach the Distributed Map with a few items).
    """
    import yaml  # noqa: PLC0415  (a generator's dependency, not the runtime layer's)

    skeleton: dict[str, Any] = yaml.safe_load(_SKELETON.read_text(encoding="utf-8"))
    states = skeleton["States"]
    if distributed_maps:
        del states["Refuse Large Map"]
        states["Run Map Items"]["ItemProcessor"] = _item_workflow(states["Run Stage Steps"]["ItemProcessor"])
    else:
        for name in ("Write Map Items", "Write Map Variables", "Run Map Items"):
            del states[name]
    text = {
        "@LARGE_MAP_FIRST@": "Write Map Items" if distributed_maps else "Refuse Large Map",
        "@INVOKE_OUTPUT@": _invoke_output(),
        "@MAP_ITEMS_PRELUDE@": _MAP_ITEMS,
        "@STAGE_RESULTS@": _STAGE_RESULTS,
        "@CORRECTION_OUTPUT@": _correction_output(),
        "@UNACCEPTED_SUM@": _unaccepted_sum("$in.unaccepted"),
        "@USAGE_MARKER@": json.dumps(USAGE_MARKER),
        "@TEXT_BUDGET@": str(TEXT_BUDGET_CHARS),
        "@PREVIEW_CHARS@": str(PREVIEW_CHARS),
        "@MAP_ITEMS@": str(map_items),
        "@MAP_RECORD_BYTES@": f"{MAP_RECORD_BYTES:,}",
        "@CAUSE_BUDGET@": str(CAUSE_BUDGET_CHARS),
        "@MAPS_PREFIX@": CompileSettings().offload_prefix + MAPS_FOLDER,
        "@OFFLOAD_PREFIX@": CompileSettings().offload_prefix,
    }
    definition: dict[str, Any] = _filled(skeleton, text)
    return definition
