"""Check, run, compile and draw a prompt chain file (JSON or YAML) from the command line; nothing is deployed.

commands:
  validate FILE [--vars FILE]   every problem of the chain at once, one line each: FILE:LINE:COLUMN: field: message
  run FILE [--vars FILE]        run the chain offline (SIMULATED Bedrock: JSON steps get generated JSON valid for
                                their schema), with progress, the output and a summary; --json for one JSON object
  compile FILE                  print the chain's state machine (ASL JSON, with the template's ${...} placeholders)
  graph FILE                    print that state machine as a Mermaid flowchart
  schema                        print the JSON Schema of chain files (schemas/chain.schema.json is its copy)

--vars FILE is the chain's input variables (a JSON or YAML object); a template's input.* that it lacks is a problem.
A chain file may name its schema for editors: "$schema" (JSON) or "# yaml-language-server: $schema=..." (YAML).

exit status: 0 ok; 1 problems found, or the run did not succeed; 2 bad usage or an unreadable file.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

from sfn_offline import cli as runner
from sfn_offline import report
from sfn_offline.plugin import project_plugins
from sfn_offline.session import HandlerOutput, offline_environment

ROOT: Final[Path] = Path(__file__).resolve().parents[2]
TEMPLATE: Final[Path] = ROOT / "template.yaml"
SCHEMA_ID: Final[str] = "urn:sfn-bedrock-companion:schemas:chain"
JSON_SCHEMA_DIALECT: Final[str] = "https://json-schema.org/draft/2020-12/schema"
_OK: Final[str] = "SUCCEEDED"


class UsageError(Exception):
    """Bad usage or an unreadable file: one ``error: ...`` line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tools.chain", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{validate,run,compile,graph,schema}")
    validate = commands.add_parser("validate", help="report every problem of a chain file")
    validate.add_argument("file", type=Path, metavar="FILE")
    validate.add_argument("--vars", type=Path, metavar="FILE", help="the chain's input variables (JSON or YAML)")
    run = commands.add_parser("run", help="run a chain file offline (SIMULATED Bedrock)")
    run.add_argument("file", type=Path, metavar="FILE")
    run.add_argument("--vars", type=Path, metavar="FILE", help="the chain's input variables (JSON or YAML)")
    run.add_argument("--json", action="store_true", help="print one JSON object {status, output, error, cause} only")
    run.add_argument("--timeout", type=float, default=300.0, metavar="SECONDS", help="stop the run after this time")
    run.add_argument("--verbose", action="store_true", help="show the handlers' logs on stderr")
    for name, text in (("compile", "print the chain's state machine (ASL)"), ("graph", "print it as Mermaid")):
        command = commands.add_parser(name, help=text)
        command.add_argument("file", type=Path, metavar="FILE")
    commands.add_parser("schema", help="print the JSON Schema of chain files")
    return parser


def main(argv: Sequence[str] | None = None, stdout: IO[str] | None = None, stderr: IO[str] | None = None) -> int:
    """Run one command; the exit status (0 ok, 1 problems or a failed run, 2 bad usage or unreadable file)."""
    out, err = stdout or sys.stdout, stderr or sys.stderr
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad usage (2)
        return int(exc.code or 0)
    # The project's runner plugin puts the runtime layer (Lambda's /opt/python) on the import path.
    project_plugins(ROOT)
    try:
        return _command(args, out, err)
    except UsageError as exc:
        err.write(f"error: {exc}\n")
        return 2


def _command(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    if args.command == "schema":
        out.write(json.dumps(chain_file_schema(), indent=2, ensure_ascii=False) + "\n")
        return 0
    # A run checks its input even without --vars (then it is empty): nothing starts that would miss a variable.
    chain, problems = load(args.file, getattr(args, "vars", None), check_input=args.command == "run")
    if chain is None or problems:
        for problem in problems:
            err.write(f"{problem}\n")
        return 1
    if args.command == "validate":
        out.write(f"{args.file}: chain {chain.name!r} is valid\n")
        return 0
    if args.command == "run":
        return run(chain, variables(args.vars), args, out, err)
    from tools.chain.machine import chain_machine  # noqa: PLC0415

    machine = chain_machine(chain)
    if args.command == "compile":
        out.write(json.dumps(machine, indent=2, ensure_ascii=False) + "\n")
    else:
        from tools.chain.mermaid import mermaid  # noqa: PLC0415

        out.write(mermaid(machine))
    return 0


def load(path: Path, vars_path: Path | None, *, check_input: bool = False) -> tuple[Any, list[Any]]:
    """The chain of ``path`` (None when it has problems) and every problem, each at its place in its file.

    The templates' ``input.*`` references are checked against the ``vars_path`` object when it is given, or against
    an empty input when ``check_input`` is set.
    """
    from companion.chains import input_problems, load_chain  # noqa: PLC0415
    from companion.errors import ChainDefinitionError  # noqa: PLC0415
    from tools.chain.source import UnreadableFileError, read_source  # noqa: PLC0415

    try:
        source = read_source(path)
    except UnreadableFileError as exc:
        raise UsageError(str(exc)) from exc
    if source.problems:
        return None, list(source.problems)
    if not isinstance(source.value, Mapping):
        return None, [source.at("", "a chain file holds one object {name, steps, ...}")]
    problems = []
    try:
        chain = checked = load_chain(source.value)
    except ChainDefinitionError as exc:
        problems = [source.at(where, message) for where, message in exc.located]
        chain, checked = None, _structure_only(source.value)
    if checked is not None and (vars_path is not None or check_input):
        given = f"--vars {vars_path}" if vars_path is not None else "no --vars given"
        problems += [
            source.at(where, f"{message} ({given})") for where, message in input_problems(checked, variables(vars_path))
        ]
    return chain, problems


def _structure_only(value: Mapping[str, Any]) -> Any:
    """The chain as the model reads it, static checks aside (for the input check of a chain with other problems)."""
    from pydantic import ValidationError  # noqa: PLC0415

    from companion.chains import SCHEMA_KEY, Chain  # noqa: PLC0415

    try:
        return Chain.model_validate({key: item for key, item in value.items() if key != SCHEMA_KEY})
    except (ValidationError, RecursionError):
        return None


def variables(path: Path | None) -> dict[str, Any]:
    """The ``--vars`` object; empty without the option."""
    return {} if path is None else _vars_source(path)


def _vars_source(path: Path) -> dict[str, Any]:
    from tools.chain.source import UnreadableFileError, read_source  # noqa: PLC0415

    try:
        source = read_source(path)
    except UnreadableFileError as exc:
        raise UsageError(str(exc)) from exc
    if source.problems:
        raise UsageError(str(source.problems[0]))
    if not isinstance(source.value, dict):
        raise UsageError(f"{path}: the variables must be an object {{name: value}}")
    return source.value


def chain_file_schema() -> dict[str, Any]:
    """The JSON Schema of chain files, from the chain model (``schemas/chain.schema.json`` is a committed copy)."""
    from companion.chains import SCHEMA_KEY, Chain  # noqa: PLC0415

    generated = Chain.model_json_schema(by_alias=True)
    properties = {
        SCHEMA_KEY: {
            "type": "string",
            "description": "The URI of this JSON Schema, for editors; ignored by the chain.",
        },
        **generated.pop("properties"),
    }
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "Prompt chain",
        "description": "A prompt chain for sfn-bedrock-companion: stages of steps (a step, a parallel group or a map), "
        "each a prompt template, a model and its output handling. Checked by companion.chains.load_chain.",
        **{key: value for key, value in generated.items() if key not in {"title", "description"}},
        "properties": properties,
    }


def run(chain: Any, chain_input: dict[str, Any], args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Run ``chain`` offline on the template's stack (real handlers, moto, SIMULATED Bedrock); the exit status."""
    from tools.chain.answers import standin_for  # noqa: PLC0415
    from tools.chain.machine import chain_machine, machine_input, substituted  # noqa: PLC0415

    plugins = project_plugins(ROOT)
    recorder = report.RunRecorder(token_usage=plugins.token_usage, fine_tuning_costs=plugins.fine_tuning_costs)
    progress = report.ProgressPrinter(err)
    started = time.perf_counter()
    with offline_environment(), contextlib.redirect_stdout(HandlerOutput(err if args.verbose else None)):
        from moto import mock_aws  # noqa: PLC0415
        from sfn_offline.functions import handlers_for  # noqa: PLC0415
        from sfn_offline.stack import OfflineStack  # noqa: PLC0415

        with mock_aws():
            template = runner.load_template_file(str(TEMPLATE), [])
            definition = substituted(chain_machine(chain), template)
            bedrock = recorder.wrap_bedrock(standin_for([chain]))
            handlers = recorder.wrap_functions(handlers_for(template), runner.memory_of(template))
            with OfflineStack(template, functions=handlers, bedrock=bedrock, plugins=plugins, time_scale=0.0) as stack:
                machine_arn = stack.engine.create_machine(f"chain-{chain.name}", definition)
                execution = stack.engine.start(machine_arn, machine_input(chain_input))
                result = stack.engine.wait(execution, timeout=args.timeout, on_event=progress)
    status = str(result.status)
    if args.json:
        document = {"status": status, "output": result.output, "error": result.error, "cause": result.cause}
        out.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
        return 0 if status == _OK else 1
    if status == _OK:
        out.write(json.dumps(result.output, indent=2, ensure_ascii=False, default=str) + "\n")
    else:
        out.write(f"== {status}\nerror: {result.error}\ncause: {result.cause}\n")
    summary = report.summarize(
        status=status,
        seconds=time.perf_counter() - started,
        history=list(result.history),
        definition_bytes=len(json.dumps(definition)),
        recorder=recorder,
        prices=report.load_prices(None),
    )
    out.write(report.render_summary(summary) + "\n")
    return 0 if status == _OK else 1
