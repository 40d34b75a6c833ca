"""A chain's plan -> a native Step Functions definition (JSONata), one state per step, named after the step.

Shape of the generated machine (see the package docstring for the contract):

- ``Check Input`` (Choice): the execution input must be ``{"input": {...}}`` with every ``input.*`` path the
  templates use, within the declared size; it assigns ``$input`` and a ``null`` variable per step.
- Per step ``S`` (variable ``$step_S``, holding ``{text, json, usage, unaccepted}``; ``unaccepted``: the tokens of the
  answers its re-prompt loop rejected):
  ``Render S Prompt`` (pre-process Lambda) only when the Body cannot be bounded under the inline budget; ``S`` (the
  bedrock:invokeModel task: Body built in JSONata, or the rendered Body / ``Input.S3Uri`` from pre-process, and
  ``Output.S3Uri`` when the answer goes to S3); ``Read S Answer`` (resolve-output Lambda) for an answer in S3;
  ``Check S Answer`` (post-process Lambda) for a JSON step; ``Retry S`` (Choice) to re-prompt with correction turns.
  A text step answered inline reads its text and tokens in ``S`` itself, from the codec's JSONata: no Lambda.
- A parallel group is a ``Parallel`` whose branches are its members' states; a map is a ``Map`` over the list an
  earlier step produced. Both end in a Choice that fails the chain when a member or item failed, after assigning the
  results that completed.
- ``Finish Chain`` (Succeed) returns ``{chain, steps, final, usage}`` (``usage.unaccepted`` apart from the accepted
  answers' tokens); ``Fail Chain`` fails with the step's error (``States.*`` renamed ``PromptChain.*``) and a Cause
  ``{step, stage, error, cause, unaccepted, completed_steps}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from companion.chains import Chain, MapSteps, ParallelSteps, PlanStage, ResolvedStep
from companion.chains.compiler.render import PRELUDE, Placeholder, Slots, cut, lookup, render
from companion.chains.compiler.settings import CompileSettings
from companion.codec import NeutralRequest, Turn
from companion.codec.jsonata import answer_expression, body_expression, has_slot_marker, slot
from companion.errors import ChainDefinitionError
from companion.retry_policies import retry_policy
from companion.s3uri import key_segment
from companion.usage import USAGE_MARKER

CHECK_INPUT = "Check Input"
FINISH = "Finish Chain"
FAIL = "Fail Chain"
SAVE = "Save Completed Steps"
REFUSE_INPUT = "Refuse Input"
INPUT_ERROR = "ChainInputError"

INVALID_ANSWER = ["ModelOutputNotJsonError", "ModelOutputSchemaError"]
_REPROMPT_ERROR_BYTES = 4096
_INDEX_BYTES = 20
_PREVIEW_CHARS = 500
_STATE_NAME_LIMIT = 80
_VARIABLE = re.compile(r"[^A-Za-z0-9_]")

# The Cause of a Lambda error is its JSON envelope; the model and the caller need only its message.
_CAUSE = (
    "($c := $states.errorOutput.Cause;"
    ' $type($c) = "string" and $substring($c, 0, 1) = "{" and $contains($c, "errorMessage")'
    " ? $parse($c).errorMessage : $c)"
)
# A post-process error ends with the rejected answer's tokens after companion.usage's marker: the text before it is
# what the model is shown and stored, the JSON after it is counted as the chain's unaccepted usage.
_MARKER = json.dumps(USAGE_MARKER)
_MESSAGE = f'($m := {_CAUSE}; $type($m) = "string" ? $substringBefore($m, {_MARKER}) : $m)'
_USAGE = f'($m := {_CAUSE}; $type($m) = "string" and $contains($m, {_MARKER}) ? $parse($substringAfter($m, {_MARKER})))'


def _usage_sum(usages: str) -> str:
    """JSONata: the input and output tokens of a list of usage objects, summed (0 for none)."""
    total = '$sum($append([0], $filter($u.{0}, function($v) {{ $type($v) = "number" }})))'
    return (
        f'($u := $append([], {usages}); {{"input_tokens": {total.format("input_tokens")}, '
        f'"output_tokens": {total.format("output_tokens")}}})'
    )


# The compiled JSONata raises these named errors with $error, which Step Functions reports as a
# States.QueryEvaluationError whose Cause carries the message: the failure takes the name back.
_RAISED_IN_JSONATA = ("ResponseDecodingError", "MissingTemplateVariablesError")
_ERROR = (
    "($e := $states.errorOutput.Error; $c := $states.errorOutput.Cause;"
    + "".join(
        f' $e = "States.QueryEvaluationError" and $type($c) = "string" and $contains($c, "{name}: ") ? "{name}" :'
        for name in _RAISED_IN_JSONATA
    )
    + " $e)"
)
# A Fail state may not raise States.* names: they fail as PromptChain.<name>.
_FAIL_ERROR = (
    '($e := $states.input.failure.error; $substring($e, 0, 7) = "States." ? "PromptChain." & $substring($e, 7) : $e)'
)


def jsonata(expression: str) -> str:
    return "{% " + expression + " %}"


@dataclass(frozen=True)
class Scope:
    """Where a step's states run: the top level, a Parallel branch, or a Map's item processor (item in ``ctx``)."""

    kind: str  # "top", "branch" or "map"
    stage: str
    item_variable: str | None = None
    distributed: bool = False  # a Distributed Map's child workflow: it fails instead of returning a failure record

    @property
    def nested(self) -> bool:
        return self.kind != "top"


@dataclass
class Known:
    """What the compiler knows about an earlier step or map: its variable and a bound of its answer's size."""

    variable: str
    kind: str  # "step" or "map"
    answer_bytes: int
    items_bytes: int = 0  # a map: bound of its list's JSON
    by_reference: bool = False  # a Distributed Map: its results are in S3, the variable holds their reference


@dataclass
class Compiler:
    chain: Chain
    settings: CompileSettings
    known: dict[str, Known] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)  # step or map name -> variable
    earlier: list[str] = field(default_factory=list)  # while emitting: the steps and maps already emitted

    # ------------------------------------------------------------------------------------------- whole machine

    def definition(self) -> dict[str, Any]:
        plan = self.chain.step_order()
        for stage in plan:
            for name in _names(stage):
                self.variables[name] = _variable_name(name, set(self.variables.values()))
        for stage in plan:
            self._learn(stage)
        problems = self._problems(plan)
        if problems:
            raise ChainDefinitionError(problems, chain=self.chain.name)
        states: dict[str, Any] = {}
        entries = [self._entry(stage) for stage in plan]
        states[CHECK_INPUT], states[REFUSE_INPUT] = self._check_input(entries[0])
        for index, stage in enumerate(plan):
            after = entries[index + 1] if index + 1 < len(plan) else FINISH
            states.update(self._stage(stage, after))
            self.earlier.extend(_names(stage))
        states[FINISH] = self._finish(plan)
        states[SAVE] = self._save()
        states[FAIL] = self._fail()
        comment = f"Chain {self.chain.name} (generated by companion.chains.compiler; do not edit)."
        if self.chain.description:
            comment += " " + self.chain.description
        return {"Comment": comment, "QueryLanguage": "JSONata", "StartAt": CHECK_INPUT, "States": states}

    def _problems(self, plan: list[PlanStage]) -> list[str]:
        """What the compiler cannot compile, every problem at once: state names that would collide (step names are
        state names, beside the ones generated for them), and template text holding the codec's slot characters."""
        problems: list[str] = []
        owners: dict[str, str] = dict.fromkeys(
            (CHECK_INPUT, REFUSE_INPUT, FINISH, SAVE, FAIL), "a state of every compiled chain"
        )

        def claim(name: str, owner: str) -> None:
            if name in owners and owners[name] != owner:
                problems.append(f"{owner}: the state name {name!r} is also {owners[name]}; rename the step")
            owners.setdefault(name, owner)

        for stage in plan:
            if isinstance(stage, ParallelSteps | MapSteps):
                claim(stage.name, f"group {stage.name!r}")
                claim(_state_name("Check", stage.name, "Results"), f"group {stage.name!r}")
            if isinstance(stage, MapSteps) and stage.distributed:
                claim(_state_name("Start", stage.name, "Item"), f"group {stage.name!r}")
                claim(_state_name("Read", stage.name, "Manifest"), f"group {stage.name!r}")
            steps = stage.steps if isinstance(stage, ParallelSteps) else [stage.step]
            for step in steps:
                for name in self._state_names(step, nested=isinstance(stage, ParallelSteps | MapSteps)):
                    claim(name, f"step {step.name!r}")
                problems += [
                    f"step {step.name!r}: {where} holds U+E000 or U+E001, which the compiler reserves"
                    for where, template in _templates(step)
                    if has_slot_marker(template)
                ]
        return problems

    def _state_names(self, step: ResolvedStep, *, nested: bool) -> list[str]:
        names = [step.name]
        if self._needs_render_lambda(step):
            names.append(_state_name("Render", step.name, "Prompt"))
        if self._answer_to_s3(step):
            names.append(_state_name("Read", step.name, "Answer"))
        if step.output.format == "json" or step.output.on_truncation == "fail":
            names.append(_state_name("Check", step.name, "Answer"))
        if step.output.format == "json" and step.output.max_reprompts:
            names.append(_state_name("Retry", step.name, ""))
        if nested:
            names.append(_state_name("", step.name, "Failed"))
        return names

    def _entry(self, stage: PlanStage) -> str:
        if isinstance(stage, ParallelSteps | MapSteps):
            return stage.name
        return self._first_state(stage.step)

    def _first_state(self, step: ResolvedStep) -> str:
        return _state_name("Render", step.name, "Prompt") if self._needs_render_lambda(step) else step.name

    def _check_input(self, first: str) -> tuple[dict[str, Any], dict[str, Any]]:
        paths = sorted(self._input_paths())
        conditions = [
            '$type($states.input.input) = "object"',
            f"$length($string($states.input.input)) <= {self.settings.max_input_bytes}",
        ]
        conditions += [f"$exists({lookup('$states.input.input', path.split('.')[1:])})" for path in paths]
        missing = ", ".join(f"($exists({lookup('$i', p.split('.')[1:])}) ? [] : [{json.dumps(p)}])" for p in paths)
        cause = (
            "(\n"
            f"{PRELUDE}\n"
            "$i := $states.input.input;\n"
            '$not($type($i) = "object") ? "the execution input must be {\\"input\\": {...}}, an object"'
            f" : $length($string($i)) > {self.settings.max_input_bytes}"
            f' ? "the chain input is over {self.settings.max_input_bytes} bytes of JSON"'
            f' : "the chain input has no " & $join($append([], [{missing}]), ", ")\n'
            ")"
        )
        assign: dict[str, Any] = {"input": jsonata("$states.input.input")}
        assign.update(dict.fromkeys(self.variables.values()))
        return {
            "Type": "Choice",
            "Comment": "The chain input must be an object holding every input.* path the prompts use.",
            "Choices": [
                {
                    "Condition": jsonata(f"(\n{PRELUDE}\n" + "\nand ".join(conditions) + "\n)"),
                    "Assign": assign,
                    "Next": first,
                }
            ],
            "Default": REFUSE_INPUT,
        }, {"Type": "Fail", "Error": INPUT_ERROR, "Cause": jsonata(cause)}

    def _input_paths(self) -> set[str]:
        paths: set[str] = set()
        for step in self.chain.resolved_steps():
            for _, template in _templates(step):
                slots = Slots()
                cut(template, slots, slot, where=step.name)
                paths.update(p.path for p in slots.placeholders if p.path.startswith("input."))
        return paths

    def _finish(self, plan: list[PlanStage]) -> dict[str, Any]:
        last = plan[-1]
        if isinstance(last, ParallelSteps):
            final = "{" + ", ".join(f"{json.dumps(s.name)}: ${self.variables[s.name]}" for s in last.steps) + "}"
        else:
            final = "$" + self.variables[last.name]
        records = []
        for name, variable in self.variables.items():
            if self.known[name].kind == "map":
                records.append(f"${variable}.results")
            else:
                records.append(f"[${variable}]")
        output = (
            "(\n"
            f"  $records := $filter($append([], [{', '.join(records)}]), function($r) {{ $r != null }});\n"
            "  $tokens := function($field) {\n"
            "    $sum($append([0], $filter($map($records, function($r) { $lookup($r.usage, $field) }),\n"
            '      function($v) { $type($v) = "number" })))\n'
            "  };\n"
            "  {\n"
            f'    "chain": {json.dumps(self.chain.name)},\n'
            f'    "steps": {self._steps_object()},\n'
            f'    "final": {final},\n'
            '    "usage": {\n'
            '      "input_tokens": $tokens("input_tokens"),\n'
            '      "output_tokens": $tokens("output_tokens"),\n'
            '      "steps_without_usage": $count($filter($records, function($r) {\n'
            '        $type($r.usage.output_tokens) != "number" })),\n'
            f'      "unaccepted": {_usage_sum("$records.unaccepted")}\n'
            "    }\n"
            "  }\n"
            ")"
        )
        return {
            "Type": "Succeed",
            "Comment": "Every step's result, the last stage's as final, the tokens of the accepted answers, and apart "
            "the tokens of the answers the re-prompt loop rejected (unaccepted).",
            "Output": jsonata(output),
        }

    def _steps_object(self, *, completed_only: bool = False) -> str:
        members = []
        for name, variable in self.variables.items():
            member = f"{{{json.dumps(name)}: ${variable}}}"
            members.append(f"(${variable} != null ? {member} : {{}})" if completed_only else member)
        return f"$merge([{', '.join(members)}])"

    def _failure_key(self) -> str:
        return f'"{self.settings.offload_prefix}failures/" & $states.context.Execution.Name & ".json"'

    def _failure_document(self) -> str:
        return (
            "{\n"
            '  "step": $states.input.failure.step,\n'
            '  "stage": $states.input.failure.stage,\n'
            '  "error": $states.input.failure.error,\n'
            '  "cause": $states.input.failure.cause,\n'
            '  "unaccepted": $states.input.failure.unaccepted,\n'
            f'  "completed_steps": {self._steps_object(completed_only=True)}\n'
            "}"
        )

    def _save(self) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Comment": "Writes every completed step to S3 first: a Fail state's Cause holds at most 32,768 characters.",
            "Resource": "arn:aws:states:::aws-sdk:s3:putObject",
            "Arguments": {
                "Bucket": "${PayloadBucketName}",
                "Key": jsonata(self._failure_key()),
                "ContentType": "application/json",
                "Body": jsonata(f"$string({self._failure_document()})"),
            },
            "Output": jsonata("$states.input"),
            "Retry": retry_policy("s3_transient"),
            "Catch": [{"ErrorEquals": ["States.ALL"], "Output": jsonata("$states.input"), "Next": FAIL}],
            "Next": FAIL,
        }

    def _fail(self) -> dict[str, Any]:
        error = _FAIL_ERROR
        uri = f'"s3://${{PayloadBucketName}}/" & {self._failure_key()}'
        cause = f'$string($merge([{self._failure_document()}, {{"completed_steps_uri": {uri}}}]))'
        return {
            "Type": "Fail",
            "Comment": "Keeps what the chain had finished in the Cause. A Fail state may not raise States.* names, so "
            "those fail the chain as PromptChain.<name> (the Cause keeps the original).",
            "Error": jsonata(error),
            "Cause": jsonata(cause),
        }

    # ------------------------------------------------------------------------------------------- stages

    def _stage(self, stage: PlanStage, after: str) -> dict[str, Any]:
        if isinstance(stage, ParallelSteps):
            return self._parallel(stage, after)
        if isinstance(stage, MapSteps):
            return self._map(stage, after)
        return self._step(stage.step, Scope("top", stage.step.name), after)

    def _learn(self, stage: PlanStage) -> None:
        if isinstance(stage, MapSteps):
            items = self._items_bound(stage)
            per_item = self._answer_bound(stage.step)
            self.known[stage.name] = Known(
                self.variables[stage.name], "map", per_item * 3, items, by_reference=stage.distributed
            )
            return
        for step in stage.steps if isinstance(stage, ParallelSteps) else [stage.step]:
            self.known[step.name] = Known(self.variables[step.name], "step", self._answer_bound(step))

    def _parallel(self, stage: ParallelSteps, after: str) -> dict[str, Any]:
        branches = []
        for step in stage.steps:
            states = self._step(step, Scope("branch", stage.name), None)
            branches.append({"StartAt": self._first_state(step), "States": states})
        assign = {
            self.variables[step.name]: jsonata(f"$states.result[{i}].failed = true ? null : $states.result[{i}]")
            for i, step in enumerate(stage.steps)
        }
        check = _state_name("Check", stage.name, "Results")
        return {
            stage.name: {
                "Type": "Parallel",
                "Comment": f"Parallel group {stage.name}: its members run at once.",
                "Branches": branches,
                "Assign": assign,
                "Output": jsonata(_first_failure()),
                "Catch": [self._catch_all(stage.name, stage.name, Scope("top", stage.name))],
                "Next": check,
            },
            check: self._check_failures(after),
        }

    def _map(self, stage: MapSteps, after: str) -> dict[str, Any]:
        segments = stage.items.strip().split(".")
        source = lookup("$" + self.variables[segments[1]], segments[2:])
        not_a_list = json.dumps(f"map {stage.name}: {stage.items.strip()} is not a list")
        checked = f"$v : $error({not_a_list})"
        if stage.max_items is not None:
            too_long = json.dumps(f"map {stage.name}: {stage.items.strip()} has more than {stage.max_items} items")
            checked = f"($count($v) <= {stage.max_items} ? $v : $error({too_long})) : $error({not_a_list})"
        items = f'(\n{PRELUDE}\n$v := {source};\n$type($v) = "array" ? {checked}\n)'
        if stage.distributed:
            return self._distributed_map(stage, items, after)
        scope = Scope("map", stage.name, stage.item_variable)
        states = self._step(stage.step, scope, None)
        check = _state_name("Check", stage.name, "Results")
        results = "$append([], $map($states.result, function($r) { $r.failed = true ? null : $r }))"
        return {
            stage.name: {
                "Type": "Map",
                "Comment": f"Map {stage.name}: {stage.step.name} once per item of {stage.items.strip()}.",
                "Items": jsonata(items),
                "ItemSelector": {
                    "ctx": {
                        "item": jsonata("$states.context.Map.Item.Value"),
                        "index": jsonata("$states.context.Map.Item.Index"),
                    }
                },
                "MaxConcurrency": stage.max_concurrency,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "INLINE"},
                    "StartAt": self._first_state(stage.step),
                    "States": states,
                },
                "Assign": {self.variables[stage.name]: jsonata(f'{{"results": {results}}}')},
                "Output": jsonata(_first_failure()),
                "Catch": [self._catch_all(stage.name, stage.name, Scope("top", stage.name))],
                "Next": check,
            },
            check: self._check_failures(after),
        }

    def _distributed_map(self, stage: MapSteps, items: str, after: str) -> dict[str, Any]:
        """A map over many items: each item an EXPRESS child workflow running the step's states, the results
        written to S3 by the ResultWriter (the variable keeps their reference), a failed item failing its child.

        Child workflows do not see the parent's variables: each gets them in its input and assigns them first.
        """
        scope = Scope("map", stage.name, stage.item_variable, distributed=True)
        start = _state_name("Start", stage.name, "Item")
        read = _state_name("Read", stage.name, "Manifest")
        check = _state_name("Check", stage.name, "Results")
        # Only what the step uses: every JSONata expression of a child is evaluated with the variables it reads.
        paths = self._paths(stage.step)
        used = set(self.earlier) if "steps" in paths else {p.split(".")[1] for p in paths if p.startswith("steps.")}
        shared = ["input", *(self.variables[name] for name in self.earlier if name in used)]
        states: dict[str, Any] = {
            start: {
                "Type": "Pass",
                "Comment": "A child workflow does not see the chain's variables: they come in its input.",
                "Assign": {name: jsonata(f"$states.input.ctx.vars.{name}") for name in shared},
                "Output": jsonata('{"ctx": {"item": $states.input.ctx.item, "index": $states.input.ctx.index}}'),
                "Next": self._first_state(stage.step),
            },
            **self._step(stage.step, scope, None),
        }
        prefix = (
            f'"{self.settings.offload_prefix}maps/" & $states.context.Execution.Name & "/" & '
            f"{json.dumps(key_segment(stage.name))}"
        )
        reference = (
            '{"results": null, "ref": "s3://" & $states.result.ResultWriterDetails.Bucket & "/" & '
            '$states.result.ResultWriterDetails.Key, "truncated": true}'
        )
        cause = json.dumps(
            f"items of map {stage.name} failed: their errors are in the FAILED, TIMED_OUT and ABORTED result files "
            "its manifest lists (the chain's results keep its reference)"
        )
        failed = (
            "($files := $parse($states.result.Body).ResultFiles;\n"
            " $count($files.FAILED) + $count($files.TIMED_OUT) + $count($files.ABORTED) > 0\n"
            f'  ? {{"failure": {{"step": {json.dumps(stage.step.name)}, "stage": {json.dumps(stage.name)}, '
            f'"error": "MapItemsFailed", "cause": {cause}, "unaccepted": {_usage_sum("[]")}}}}}\n'
            "  : {})"
        )
        top = Scope("top", stage.name)
        return {
            stage.name: {
                "Type": "Map",
                "Comment": f"Map {stage.name}: {stage.step.name} once per item of {stage.items.strip()}, each item "
                f"an Express child workflow (up to {stage.max_items} items); the results go to S3.",
                "Items": jsonata(items),
                "ItemSelector": {
                    "ctx": {
                        "item": jsonata("$states.context.Map.Item.Value"),
                        "index": jsonata("$states.context.Map.Item.Index"),
                        "vars": jsonata("{" + ", ".join(f'"{name}": ${name}' for name in shared) + "}"),
                    }
                },
                "MaxConcurrency": stage.max_concurrency,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS"},
                    "StartAt": start,
                    "States": states,
                },
                "ToleratedFailurePercentage": 100,
                "ResultWriter": {
                    "Resource": "arn:aws:states:::s3:putObject",
                    "Arguments": {"Bucket": "${PayloadBucketName}", "Prefix": jsonata(prefix)},
                },
                "Assign": {self.variables[stage.name]: jsonata(reference)},
                "Output": jsonata("$states.result.ResultWriterDetails"),
                "Catch": [self._catch_all(stage.name, stage.name, top)],
                "Next": read,
            },
            read: {
                "Type": "Task",
                "Comment": "Reads the map's manifest: the chain fails, keeping the results' reference, when an item "
                "failed.",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Arguments": {"Bucket": jsonata("$states.input.Bucket"), "Key": jsonata("$states.input.Key")},
                "Output": jsonata(failed),
                "Retry": retry_policy("s3_transient"),
                "Catch": [self._catch_all(stage.name, stage.name, top)],
                "Next": check,
            },
            check: self._check_failures(after),
        }

    def _check_failures(self, after: str) -> dict[str, Any]:
        return {
            "Type": "Choice",
            "Choices": [{"Condition": jsonata("$exists($states.input.failure)"), "Next": SAVE}],
            "Default": after,
        }

    # ------------------------------------------------------------------------------------------- one step

    def _step(self, step: ResolvedStep, scope: Scope, after: str | None) -> dict[str, Any]:
        """The states of one step; ``after`` is the next state at the top level, ``None`` inside a branch/map."""
        failed = SAVE if not scope.nested else _state_name("", step.name, "Failed").strip()
        render_lambda = self._needs_render_lambda(step)
        to_s3 = self._answer_to_s3(step)
        check = step.output.format == "json" or step.output.on_truncation == "fail"
        names = {
            "render": _state_name("Render", step.name, "Prompt"),
            "invoke": step.name,
            "read": _state_name("Read", step.name, "Answer"),
            "check": _state_name("Check", step.name, "Answer"),
            "retry": _state_name("Retry", step.name, ""),
        }
        first = names["render"] if render_lambda else names["invoke"]
        states: dict[str, Any] = {}
        ctx = '"ctx": $states.input.ctx, ' if scope.kind == "map" else ""
        keep = f'{ctx}"fixes": $states.input.fixes'
        if render_lambda:
            states[names["render"]] = self._lambda(
                "${PreprocessPromptFunctionArn}",
                self._preprocess_payload(step, scope),
                output=f'{{{keep}, "request": $states.result.Payload.request}}',
                catch=[self._catch_all(step.name, failed, scope)],
                next_state=names["invoke"],
                comment="Renders the prompt and encodes the Body in Python: it may not fit inline (then it goes "
                "to the model through Input.S3Uri), or an earlier answer it uses is in S3.",
            )
        invoke: dict[str, Any] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::bedrock:invokeModel",
            "Arguments": self._invoke_arguments(step, scope, render_lambda=render_lambda, to_s3=to_s3),
            "Retry": retry_policy("bedrock_invoke_transient"),
            "Catch": [self._catch_all(step.name, failed, scope)],
        }
        record: str | None = None
        if to_s3:
            invoke["Output"] = jsonata(f'{{{keep}, "output_s3_uri": {self._output_uri(step, scope)}}}')
            invoke["Next"] = names["read"]
            states[names["invoke"]] = invoke
            resolve_payload: dict[str, Any] = {
                "model_id": step.model_id,
                "model_family": step.model_family.value,
                "output_s3_uri": jsonata("$states.input.output_s3_uri"),
            }
            if check:
                states[names["read"]] = self._lambda(
                    "${ResolveOutputFunctionArn}",
                    resolve_payload,
                    output=f'{{{keep}, "answer": $states.result.Payload}}',
                    catch=[self._catch_all(step.name, failed, scope)],
                    next_state=names["check"],
                    comment="Reads the answer Bedrock wrote to Output.S3Uri; the check then validates it.",
                )
            else:
                # Over this budget a text answer stays in S3: the variable keeps a preview and the reference.
                resolve_payload |= {
                    "max_inline_bytes": self.settings.answer_budget_bytes,
                    "preview_chars": _PREVIEW_CHARS,
                }
                record = (
                    "($r := $states.result.Payload; $merge([{"
                    '"text": $r.text, "json": null, '
                    '"usage": {"input_tokens": $r.input_tokens, "output_tokens": $r.output_tokens}}, '
                    f'$r.truncated = true ? {{"ref": $r.source_s3_uri, "truncated": true, '
                    f'"family": {json.dumps(step.model_family.value)}, '
                    f'"model_id": {json.dumps(step.model_id)}}} : {{}}]))'
                )
                states[names["read"]] = self._finish_step(
                    self._lambda(
                        "${ResolveOutputFunctionArn}",
                        resolve_payload,
                        output=None,
                        catch=[self._catch_all(step.name, failed, scope)],
                        next_state=None,
                        comment="Reads the answer Bedrock wrote to Output.S3Uri (a preview and its reference when "
                        "it is too large to keep in the state).",
                    ),
                    step,
                    scope,
                    record,
                    after,
                )
        elif check:
            invoke["Output"] = jsonata(f'{{{keep}, "answer": $states.result.Body}}')
            invoke["Next"] = names["check"]
            states[names["invoke"]] = invoke
        else:
            no_text = f"ResponseDecodingError: no answer text in the {step.model_family.value} response"
            text_record = (
                "(\n"
                "$b := $states.result.Body;\n"
                f"$a := {answer_expression(step.model_family)};\n"
                '$exists($a.text) and $a.text != "" ? '
                '{"text": $a.text, "json": null, "usage": {"input_tokens": $a.input_tokens, '
                '"output_tokens": $a.output_tokens}}\n'
                f"  : $error({json.dumps(no_text)})\n"
                ")"
            )
            invoke["Comment"] = (
                "A text step reads its answer here (text and tokens as companion.codec decodes them): no Lambda."
            )
            states[names["invoke"]] = self._finish_step(invoke, step, scope, text_record, after)
        if check:
            checked = (
                "($r := $states.result.Payload; "
                '{"text": $r.text, "json": $r.json, '
                '"usage": {"input_tokens": $r.input_tokens, "output_tokens": $r.output_tokens}, '
                f'"unaccepted": {_usage_sum("$states.input.fixes.usage")}}})'
            )
            catches = []
            if step.output.format == "json":
                catches.append(self._catch_invalid(step, scope, to_s3=to_s3, retry=names["retry"], failed=failed))
            catches.append(self._catch_all(step.name, failed, scope))
            states[names["check"]] = self._finish_step(
                self._lambda(
                    "${PostprocessResultFunctionArn}",
                    {
                        "model_id": step.model_id,
                        "model_family": step.model_family.value,
                        "result": jsonata("$states.input.answer"),
                        "output": step.postprocess_output(),
                    },
                    output=None,
                    catch=catches,
                    next_state=None,
                    comment="Checks the answer: JSON (and its schema) for a JSON step, the token limit when the step "
                    "says on_truncation fail.",
                ),
                step,
                scope,
                checked,
                after,
            )
            if step.output.format == "json" and step.output.max_reprompts:
                states[names["retry"]] = {
                    "Type": "Choice",
                    "Comment": f"Re-prompts with the rejected answer and the error, at most "
                    f"{step.output.max_reprompts} time(s).",
                    "Choices": [
                        {
                            "Condition": jsonata(f"$count($states.input.fixes) <= {step.output.max_reprompts}"),
                            "Next": first,
                        }
                    ],
                    "Default": failed,
                }
        if scope.distributed:
            states[failed] = {
                "Type": "Fail",
                "Comment": "Fails this item's child workflow: the map keeps its other items, the result files this "
                "one's error and cause.",
                "Error": jsonata(_FAIL_ERROR),
                "Cause": jsonata("$string($states.input.failure)"),
            }
        elif scope.nested:
            states[failed] = {
                "Type": "Pass",
                "Comment": "Ends this run as a failure record, so the stage keeps what its other runs completed.",
                "Output": jsonata('{"failed": true, "failure": $states.input.failure}'),
                "End": True,
            }
        return states

    def _finish_step(
        self, state: dict[str, Any], step: ResolvedStep, scope: Scope, record: str, after: str | None
    ) -> dict[str, Any]:
        """Make ``state`` the step's last: it assigns the step's variable (top level) or returns the record."""
        if scope.nested:
            state["Output"] = jsonata(record)
            state["End"] = True
            return state
        state["Assign"] = {self.variables[step.name]: jsonata(record)}
        state["Output"] = {}
        if after is None:  # pragma: no cover - a top-level step always has a next state
            raise AssertionError(step.name)
        state["Next"] = after
        return state

    def _lambda(
        self,
        function: str,
        payload: dict[str, Any],
        *,
        output: str | None,
        catch: list[dict[str, Any]],
        next_state: str | None,
        comment: str,
    ) -> dict[str, Any]:
        state: dict[str, Any] = {
            "Type": "Task",
            "Comment": comment,
            "Resource": "arn:aws:states:::lambda:invoke",
            "Arguments": {"FunctionName": function, "Payload": payload},
            "Retry": retry_policy("lambda_transient"),
            "Catch": catch,
        }
        if output is not None:
            state["Output"] = jsonata(output)
        if next_state is not None:
            state["Next"] = next_state
        return state

    def _failure_record(self, step_name: str, scope: Scope, error: str, cause: str, unaccepted: str) -> str:
        name = json.dumps(step_name)
        if scope.kind == "map":
            name = f'{name} & "-" & $string($states.input.ctx.index)'
        return (
            f'{{"step": {name}, "stage": {json.dumps(scope.stage)}, "error": {error}, "cause": {cause}, '
            f'"unaccepted": {_usage_sum(unaccepted)}}}'
        )

    def _catch_all(self, step_name: str, failed: str, scope: Scope) -> dict[str, Any]:
        # Every answer the step received and did not accept: the rejected ones, and the one it failed on, if any.
        unaccepted = f"$append($states.input.fixes.usage, [{_USAGE}])"
        record = self._failure_record(step_name, scope, _ERROR, _MESSAGE, unaccepted)
        return {"ErrorEquals": ["States.ALL"], "Output": jsonata(f'{{"failure": {record}}}'), "Next": failed}

    def _catch_invalid(
        self, step: ResolvedStep, scope: Scope, *, to_s3: bool, retry: str, failed: str
    ) -> dict[str, Any]:
        if to_s3:
            said = "$states.input.answer.text"
        else:
            said = f"($b := $states.input.answer; {answer_expression(step.model_family)}.text)"
        ctx = '"ctx": $states.input.ctx, ' if scope.kind == "map" else ""
        record = self._failure_record(step.name, scope, '"ModelOutputInvalid"', "$message", "$fixes.usage")
        output = (
            "(\n"
            f"$said := {said};\n"
            f"$message := {_MESSAGE};\n"
            '$fixes := $append($append([], $states.input.fixes), [{"answer": $type($said) = "string" and $said != "" '
            f'? $said : $string($states.input.answer), "error": $message, "usage": {_USAGE}}}]);\n'
            f"{{{ctx}"
            '"fixes": $fixes, '
            f'"failure": {record}}}\n'
            ")"
        )
        return {
            "ErrorEquals": INVALID_ANSWER,
            "Output": jsonata(output),
            "Next": retry if step.output.max_reprompts else failed,
        }

    # ------------------------------------------------------------------------------------------- the request

    def _invoke_arguments(
        self, step: ResolvedStep, scope: Scope, *, render_lambda: bool, to_s3: bool
    ) -> dict[str, Any] | str:
        arguments: dict[str, Any] = {
            "ModelId": step.model_id,
            "ContentType": "application/json",
            "Accept": "application/json",
        }
        if render_lambda:
            # One expression for the whole object: a member that is undefined (Body or Input.S3Uri) is left out.
            fields = [f"{json.dumps(key)}: {json.dumps(value)}" for key, value in arguments.items()]
            fields += ['"Body": $states.input.request.Body', '"Input": $states.input.request.Input']
            if to_s3:
                fields.append(f'"Output": {{"S3Uri": {self._output_uri(step, scope)}}}')
            return jsonata("{" + ", ".join(fields) + "}")
        arguments["Body"] = jsonata(self._body(step, scope))
        if to_s3:
            arguments["Output"] = {"S3Uri": jsonata(self._output_uri(step, scope))}
        return arguments

    def _output_uri(self, step: ResolvedStep, scope: Scope) -> str:
        prefix = f"s3://${{PayloadBucketName}}/{self.settings.offload_prefix}responses/"
        key = json.dumps(key_segment(step.name))
        if scope.kind == "map":
            key = f'{key} & "-" & $string($states.input.ctx.index)'
        return f'"{prefix}" & $states.context.Execution.Name & "/" & {key} & ".json"'

    def _body(self, step: ResolvedStep, scope: Scope) -> str:
        """JSONata building the step's Body, one variant per number of correction turns so far."""
        variants = []
        for corrections in range(step.output.max_reprompts + 1 if step.output.format == "json" else 1):
            slots = Slots()
            request = self._slotted_request(step, slots, corrections)
            expressions = {index: self._slot_value(p, scope) for index, p in enumerate(slots.placeholders)}
            variants.append(body_expression(request, step.model_id, step.model_family, expressions))
        expression = variants[-1]
        for count in reversed(range(len(variants) - 1)):
            expression = f"$n = {count}\n  ? {variants[count]}\n  : {expression}"
        return f"(\n{PRELUDE}\n$fixes := $states.input.fixes;\n$n := $count($fixes);\n{expression}\n)"

    def _slotted_request(self, step: ResolvedStep, slots: Slots, corrections: int) -> NeutralRequest:
        system = step.prompt.system
        cut_system = None if system is None else cut(system, slots, slot, where=f"{step.name}.prompt.system")
        turns = [
            Turn(role=turn.role, content=cut(turn.content, slots, slot, where=f"{step.name}.prompt.messages[{i}]"))
            for i, turn in enumerate(step.prompt.messages)
        ]
        for index in range(corrections):
            for role, part in (("assistant", "answer"), ("user", "error")):
                marker = slot(slots.add(Placeholder(f"_reprompt_{index}.{part}", json=False)))
                turns.append(Turn(role=role, content=marker))
        return NeutralRequest(
            **step.inference.model_dump(), system=cut_system, messages=turns, extra_body=step.extra_body
        )

    def _slot_value(self, placeholder: Placeholder, scope: Scope) -> str:
        root, *rest = placeholder.path.split(".")
        if root.startswith("_reprompt_"):
            return f"$fixes[{int(root.removeprefix('_reprompt_'))}].{rest[0]}"
        if root == "input":
            value = lookup("$input", rest)
        elif scope.item_variable is not None and root == scope.item_variable:
            value = lookup("$states.input.ctx.item", rest)
        elif scope.item_variable is not None and root == f"{scope.item_variable}_index":
            value = lookup("$states.input.ctx.index", rest)
        elif not rest:  # {{ steps }}: every earlier result
            value = self._earlier_steps()
        else:
            value = lookup("$" + self.known[rest[0]].variable, rest[1:])
        return render(value, placeholder)

    def _earlier_steps(self) -> str:
        members = ", ".join(f"{{{json.dumps(name)}: ${self.known[name].variable}}}" for name in self.earlier)
        return f"$merge([{members}])"

    def _preprocess_payload(self, step: ResolvedStep, scope: Scope) -> dict[str, Any]:
        fields = step.preprocess_input()
        prompt = json.dumps(fields["prompt"], ensure_ascii=False)
        fields["prompt"] = jsonata(
            "(\n"
            f"$p := {prompt};\n"
            "$f := $append([], $states.input.fixes);\n"
            '$count($f) = 0 ? $p : $merge([$p, {"messages": $append($p.messages, $reduce([0..$count($f) - 1], '
            'function($acc, $i) { $append($acc, [{"role": "assistant", "content": "{{ _reprompt_" & $i & '
            '".answer }}"}, {"role": "user", "content": "{{ _reprompt_" & $i & ".error }}"}]) }, []))}])\n'
            ")"
        )
        referenced = sorted({p.split(".")[1] for p in self._paths(step) if p.startswith("steps.") and "." in p})
        if any(p == "steps" for p in self._paths(step)):
            referenced = list(self.earlier)
        steps = ", ".join(f"{json.dumps(name)}: ${self.known[name].variable}" for name in referenced)
        extra = ""
        if scope.item_variable is not None:
            item = json.dumps(scope.item_variable)
            index = json.dumps(f"{scope.item_variable}_index")
            extra = f", {item}: $states.input.ctx.item, {index}: $states.input.ctx.index"
        fields["variables"] = jsonata(
            "(\n"
            "$f := $append([], $states.input.fixes);\n"
            f'$merge([{{"input": $input, "steps": {{{steps}}}{extra}}}, '
            '$merge($map([0..$count($f) - 1][$count($f) > 0], function($i) { {"_reprompt_" & $i: $f[$i]} }))])\n'
            ")"
        )
        fields["execution_name"] = jsonata("$states.context.Execution.Name")
        if scope.kind == "map":
            fields["step"] = jsonata(f'{json.dumps(step.name)} & "-" & $string($states.input.ctx.index)')
        return fields

    # ------------------------------------------------------------------------------------------- size bounds

    def _paths(self, step: ResolvedStep) -> list[str]:
        slots = Slots()
        for where, template in _templates(step):
            cut(template, slots, slot, where=where)
        return [p.path for p in slots.placeholders]

    def _answer_bound(self, step: ResolvedStep) -> int:
        return step.inference.max_tokens * self.settings.bytes_per_token

    def _answer_to_s3(self, step: ResolvedStep) -> bool:
        return step.offload.output_to_s3 or self._answer_bound(step) > self.settings.answer_budget_bytes

    def _items_bound(self, stage: MapSteps) -> int:
        source = stage.items.strip().split(".")[1]
        return self.known[source].answer_bytes * 2

    def _needs_render_lambda(self, step: ResolvedStep) -> bool:
        """Whether the Body must be built by pre-process: it may not fit inline, or it reads an answer kept in S3."""
        slots = Slots()
        request = self._slotted_request(step, slots, step.output.max_reprompts if step.output.format == "json" else 0)
        literal = len(json.dumps(request.model_dump(), ensure_ascii=False).encode("utf-8"))
        inputs = [p.path.split(".") for p in slots.placeholders if p.path.split(".")[0] == "input"]
        total = literal + _input_bound(inputs, self.settings.max_input_bytes)
        total += sum(self._slot_bound(step, p) for p in slots.placeholders if p.path.split(".")[0] != "input")
        if total > self.settings.body_budget_bytes:
            return True
        return any(self._may_be_in_s3(p.path) for p in slots.placeholders)

    def _may_be_in_s3(self, path: str) -> bool:
        root, *rest = path.split(".")
        if root != "steps":
            return False
        names = [rest[0]] if rest else list(self.earlier)
        return any(
            self.known[name].by_reference or self.known[name].answer_bytes > self.settings.answer_budget_bytes
            for name in names
        )

    def _slot_bound(self, step: ResolvedStep, placeholder: Placeholder) -> int:
        root, *rest = placeholder.path.split(".")
        factor = 2 if placeholder.json else 1
        if root.startswith("_reprompt_"):
            return self._answer_bound(step) if rest[0] == "answer" else _REPROMPT_ERROR_BYTES
        if root != "steps":  # a map's item (JSON from the list's step) or its index
            if root.endswith("_index"):
                return _INDEX_BYTES
            source = self._map_source(step)
            return 2 * self.known[source].answer_bytes if source else self.settings.body_budget_bytes + 1
        if not rest:
            return sum(3 * self.known[n].answer_bytes * max(1, self.known[n].items_bytes) for n in self.earlier)
        known = self.known[rest[0]]
        if known.kind == "map":
            if len(rest) >= 3 and rest[2].isdigit():
                return 2 * factor * known.answer_bytes
            return known.items_bytes * known.answer_bytes * 2
        if len(rest) >= 2 and rest[1] == "text":
            return factor * known.answer_bytes
        return 2 * factor * known.answer_bytes

    def _map_source(self, step: ResolvedStep) -> str | None:
        for stage in self.chain.step_order():
            if isinstance(stage, MapSteps) and stage.step.name == step.name:
                return stage.items.strip().split(".")[1]
        return None


def _input_bound(paths: list[list[str]], max_input_bytes: int) -> int:
    """Bound of the Body bytes the input's placeholders add.

    Parts of the input at paths that do not contain each other are disjoint pieces of its JSON text, so together
    they are at most its size (twice that once escaped again inside the Body's JSON). A byte is repeated once per
    placeholder whose path contains it, and those paths all contain or are contained in the deepest of them.
    """
    if not paths:
        return 0

    def related(a: list[str], b: list[str]) -> bool:
        shorter = min(len(a), len(b))
        return a[:shorter] == b[:shorter]

    overlap = max(sum(1 for other in paths if related(path, other)) for path in paths)
    return 2 * max_input_bytes * overlap


def _first_failure() -> str:
    return '($f := $states.result[failed = true]; $exists($f) ? {"failure": $f[0].failure} : {})'


def _names(stage: PlanStage) -> Iterable[str]:
    if isinstance(stage, ParallelSteps):
        return [step.name for step in stage.steps]
    return [stage.name]


def _templates(step: ResolvedStep) -> list[tuple[str, str]]:
    templates = [(f"{step.name}.prompt.messages[{i}]", turn.content) for i, turn in enumerate(step.prompt.messages)]
    if step.prompt.system is not None:
        templates.insert(0, (f"{step.name}.prompt.system", step.prompt.system))
    return templates


def _variable_name(name: str, taken: set[str]) -> str:
    base = "step_" + _VARIABLE.sub("_", name)
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}_{number}", number + 1
    return candidate


def _state_name(verb: str, name: str, noun: str) -> str:
    room = _STATE_NAME_LIMIT - len(verb) - len(noun) - 2
    return " ".join(part for part in (verb, name[:room], noun) if part)
