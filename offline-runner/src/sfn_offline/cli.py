"""Run the SAM template's state machines, functions and APIs on this machine: no Docker, no AWS.

Lambda handlers run in-process with their template environment, Bedrock is SIMULATED (deterministic placeholder
answers, never a model), and S3 is emulated by moto with the template's buckets created empty. Nothing leaves the
machine: fake credentials are set before boto3 is used, and the api command serves loopback only.

commands:
  run      execute a state machine of the template (or a bare ASL file) and print its output, a summary and an
           estimated AWS cost; --graph/--html/--report draw the execution graph
  graph    draw a state machine without running it (Mermaid on stdout, --html FILE for the page)
  invoke   call one function of the template with an event, like `sam local invoke`
  api      serve the template's Api routes on 127.0.0.1, like `sam local start-api`

exit status: 0 the execution or invocation succeeded; 1 it failed, timed out or was aborted; 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import logging
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any, Final

from sfn_offline import report
from sfn_offline.console import RunProgress, quiet_libraries
from sfn_offline.graph import GraphError, build_graph, to_mermaid
from sfn_offline.html_report import ExecutionView, render_html
from sfn_offline.pictures import NestedExecution, definition_document, nested_executions, views_of_run, write_pictures
from sfn_offline.plugin import PluginError, Plugins, project_plugins
from sfn_offline.session import HandlerOutput, create_stores, offline_environment

_SUBSTITUTION: Final[re.Pattern[str]] = re.compile(r"\$\{([^}]+)\}")
_FINAL_STATUS_OK: Final[str] = "SUCCEEDED"


class UsageError(Exception):
    """Bad usage or input: printed as one ``error: <file>: <place>: <what>`` line, exit status 2.

    ``code`` is the AWS API error the same input would get (``InvalidDefinition``...), when there is one."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


# --- parser -------------------------------------------------------------------------------------------------------

_RUN_HELP = """\
Execute a state machine once, offline, and print its output and a summary.

Two forms:
  run LOGICAL_ID [--template template.yaml] [--input FILE | --event FILE [--event-name NAME]] ...
      a state machine of the SAM template; its Lambda functions run in-process with their template environment,
      its buckets and other resources exist (empty) in moto when the run can reach them (a Task, a Map reading or
      writing S3, --s3-dir/--s3-out), and every state machine it can start exists under its template ARN, so
      nested states:startExecution (.sync, .sync:2) tasks and handlers calling Step Functions reach them.
  run --definition FILE --input FILE [--substitution KEY=VALUE ...] [--function NAME=module.py:handler ...] ...
      a bare ASL file (JSON or YAML); ${KEY} placeholders are substituted, the result is validated.

Progress lines go to stderr as states run (-> entered, <- exited with duration, !! task failed, retry attempt n,
Map iterations and Parallel branches indented). stdout gets the output (pretty JSON), then a summary: state
transitions as Standard bills them (every state entered, retries included), Lambda invocations with durations,
Bedrock calls and tokens per model, and the estimated cost of one execution as Standard and as Express.
With --json, stdout is exactly one JSON object {status, output, error, cause} (plus trace with --trace).
"""

_GRAPH_HELP = """\
Draw a state machine without running it: every state (Parallel branches and Map processors as subgraphs), Choice
rules with their conditions, Default, Catch and Retry. Prints Mermaid flowchart text; --html FILE also writes the
self-contained HTML page (click a state for its definition details).

  graph LOGICAL_ID [--template template.yaml]      a state machine of the SAM template
  graph --definition FILE [--substitution K=V ...]  a bare ASL file (JSON or YAML)
"""

_INVOKE_HELP = """\
Call one function of the template with an event, as `sam local invoke` does, without Docker: the handler runs
in-process with the function's environment, against moto's S3 holding the template's (empty) buckets. Prints the
return value as JSON; a handler error prints the Lambda error envelope {errorType, errorMessage} and exits 1.
"""

_API_HELP = """\
Serve the template's Api routes, as `sam local start-api` does, without Docker (loopback addresses only).

Every state machine of the template exists under its template ARN for the server's lifetime, so a function that
calls Step Functions (StartExecution, StartSyncExecution, DescribeExecution) reaches them; executions run in the
background and their progress goes to stderr, each line prefixed with the execution's name.

A function route gets the Lambda event of its API (an Api route the REST proxy event, payload format 1.0; an HttpApi
route payload format 2.0, or 1.0 when its PayloadFormatVersion says so) and its {statusCode, headers, body} is sent
back; each function serves one request at a time, as one Lambda sandbox does. A state machine route starts an
execution with the input its event maps the request to (the JSON body) and answers at once, as API Gateway's
StartExecution integration does: {"executionArn", "startDate"}. An EXPRESS machine whose Api event has the
runner-only property `Sync: true` (or `Action: StartSyncExecution`) answers as StartSyncExecution does:
executionArn, status, output (JSON text) or error and cause. An unknown path or method answers 403 {"message":
"Missing Authentication Token"}, as API Gateway REST APIs do. Bedrock is SIMULATED (see --json-answers). Stop with
Ctrl-C.

example (the chain API of template.yaml):
  sfn-offline api --json-answers tools/json_answers/outline-draft-critique.json &
  curl -s -X POST 127.0.0.1:3000/chains -H 'Idempotency-Key: k1' \\
       -d '{"chain": "outline-draft-critique", "variables": {"topic": "Step Functions", "audience": "developers"}}'
  curl -s 127.0.0.1:3000/chains/<executionId>
"""


def build_parser() -> argparse.ArgumentParser:  # noqa: PLR0915  (one statement per option, read top to bottom)
    parser = argparse.ArgumentParser(
        prog="sfn-offline",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{run,graph,invoke,api}")

    run = commands.add_parser(
        "run", help="execute a state machine", description=_RUN_HELP, formatter_class=argparse.RawTextHelpFormatter
    )
    run.add_argument("logical_id", nargs="?", metavar="LOGICAL_ID", help="the state machine's logical id")
    run.add_argument("--template", default="template.yaml", metavar="FILE", help="SAM template (default: %(default)s)")
    run.add_argument(
        "--definition", metavar="FILE", help="run a bare ASL file (JSON or YAML) instead of a template's machine"
    )
    given = run.add_mutually_exclusive_group()
    given.add_argument("--input", metavar="FILE", help="execution input, a JSON file ('-' for stdin); default {}")
    given.add_argument(
        "--event", metavar="FILE", help="a trigger event (JSON) mapped to the input by the machine's event"
    )
    run.add_argument(
        "--event-name", metavar="NAME", help="which of the machine's Events maps --event (needed when it has several)"
    )
    _add_parameter_overrides(run)
    _add_plugins(run)
    run.add_argument(
        "--substitution",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --definition: replace ${KEY} in the definition's strings (repeatable)",
    )
    run.add_argument(
        "--function",
        action="append",
        default=[],
        metavar="NAME=FILE.py:HANDLER",
        help="with --definition: serve Lambda tasks calling NAME (or its ARN) with that handler (repeatable)",
    )
    run.add_argument(
        "--mock-config",
        metavar="FILE",
        help="AWS mock-config file (Step Functions Local format): each invocation of a mocked state (retry or "
        "re-entry) takes the next response key; its StateMachines key is the machine's logical id or name, or for "
        "--definition the file name up to its first dot (polling.asl.json: polling); a file with one state machine "
        "applies whatever its name",
    )
    run.add_argument("--test-case", metavar="NAME", help="the mock-config test case to apply (with --mock-config)")
    _add_s3_dirs(run, out=True)
    _add_json_answers(run)
    run.add_argument("--trace", action="store_true", help="also print a per-state trace (TestState vocabulary)")
    run.add_argument("--json", action="store_true", help="print one JSON object {status, output, error, cause} only")
    run.add_argument(
        "--prices", metavar="FILE", help="price table for the cost estimate (default: bundled prices.json)"
    )
    run.add_argument(
        "--time-scale",
        type=float,
        default=0.0,
        metavar="F",
        help="multiply Retry intervals and Wait durations by F (default 0: no sleeping)",
    )
    run.add_argument(
        "--timeout", type=float, default=300.0, metavar="SECONDS", help="stop the execution after this wall time"
    )
    _add_verbose(run, "show the handlers' logs and metrics and the libraries' own warnings (moto, Powertools)")
    run.add_argument("--graph", metavar="FILE.mmd", help="write the execution graph as Mermaid text")
    run.add_argument(
        "--html", metavar="FILE.html", help="write the execution graph as one self-contained HTML page (no network)"
    )
    run.add_argument("--report", metavar="DIR", help="write DIR/graph.mmd and DIR/graph.html")

    graph = commands.add_parser(
        "graph", help="draw a state machine", description=_GRAPH_HELP, formatter_class=argparse.RawTextHelpFormatter
    )
    graph.add_argument("logical_id", nargs="?", metavar="LOGICAL_ID", help="the state machine's logical id")
    graph.add_argument(
        "--template", default="template.yaml", metavar="FILE", help="SAM template (default: %(default)s)"
    )
    graph.add_argument("--definition", metavar="FILE", help="draw a bare ASL file (JSON or YAML) instead")
    graph.add_argument(
        "--substitution",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="with --definition: replace ${KEY} in the definition's strings (repeatable)",
    )
    graph.add_argument("--html", metavar="FILE.html", help="also write the self-contained HTML page")
    _add_parameter_overrides(graph)

    invoke = commands.add_parser(
        "invoke", help="call one function", description=_INVOKE_HELP, formatter_class=argparse.RawTextHelpFormatter
    )
    invoke.add_argument("logical_id", metavar="LOGICAL_ID", help="the function's logical id")
    invoke.add_argument("--event", required=True, metavar="FILE", help="the event, a JSON file ('-' for stdin)")
    invoke.add_argument(
        "--template", default="template.yaml", metavar="FILE", help="SAM template (default: %(default)s)"
    )
    _add_parameter_overrides(invoke)
    _add_verbose(invoke, "also show the libraries' own warnings (moto, Powertools)")
    _add_s3_dirs(invoke, out=True)
    _add_plugins(invoke)

    api = commands.add_parser(
        "api",
        help="serve the template's Api routes",
        description=_API_HELP,
        formatter_class=argparse.RawTextHelpFormatter,
    )
    api.add_argument("--template", default="template.yaml", metavar="FILE", help="SAM template (default: %(default)s)")
    api.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default: %(default)s)")
    api.add_argument("--port", type=int, default=3000, help="port (default: %(default)s; 0 picks a free one)")
    _add_json_answers(api)
    _add_parameter_overrides(api)
    _add_verbose(api, "also show the libraries' own warnings (moto, Powertools)")
    _add_s3_dirs(api, out=False)
    _add_plugins(api)
    return parser


def _add_verbose(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help=f"{what} on stderr")


def _add_s3_dirs(parser: argparse.ArgumentParser, *, out: bool) -> None:
    parser.add_argument(
        "--s3-dir",
        action="append",
        default=[],
        metavar="[BUCKET=]DIR",
        help="put files in the emulated buckets first (repeatable): DIR/<bucket name or logical id>/<key> for any "
        "number of buckets, DIR/<key> when the template has one bucket, BUCKET=DIR for one bucket (created when "
        "the template has no such bucket) (e.g. events/s3: the sample prompt set and fine-tuning datasets)",
    )
    if out:
        parser.add_argument(
            "--s3-out",
            metavar="DIR",
            type=Path,
            help="afterwards, write every emulated bucket's objects to DIR/<bucket name>/<key>",
        )


def _add_plugins(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE:ATTR",
        help="a project plugin (sfn_offline.plugin.Plugin) to load after the ones the project's pyproject.toml names "
        "under [tool.sfn-offline] plugins (repeatable)",
    )


def _add_parameter_overrides(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--parameter-overrides",
        nargs="+",
        default=[],
        metavar="K=V",
        help="template parameter values, as `sam deploy --parameter-overrides` takes them",
    )


# --- entry point --------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit status (0 success, 1 failed execution or invocation, 2 bad usage/input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on bad usage (2)
        return int(exc.code or 0)
    stdout, stderr = sys.stdout, sys.stderr
    commands: dict[str, Callable[[argparse.Namespace, IO[str], IO[str]], int]] = {
        "run": _run,
        "graph": _graph,
        "invoke": _invoke,
        "api": _api,
    }
    try:
        return commands[args.command](args, stdout, stderr)
    except _input_errors() as exc:
        # One line per problem: a DefinitionError lists every broken place, each "<file>: <place>: <what>".
        problems = [_one_line(problem) for problem in str(exc).splitlines() if problem.strip()]
        for problem in problems or [type(exc).__name__]:
            stderr.write(f"error: {problem}\n")
        if getattr(args, "json", False):
            # --json promises one object on stdout whatever happens; bad input never started an execution.
            error = getattr(exc, "code", None) or type(exc).__name__
            rejected = {"status": "REJECTED", "output": None, "error": error, "cause": "; ".join(problems)}
            stdout.write(json.dumps(rejected, ensure_ascii=False) + "\n")
        return 2


def _input_errors() -> tuple[type[Exception], ...]:
    """The CLI's usage error and the input-error classes of the modules it reads files with (the ones importable
    right now)."""
    from sfn_offline.engine import DefinitionRejectedError  # noqa: PLC0415
    from sfn_offline.mock_config import MockConfigError  # noqa: PLC0415
    from sfn_offline.resources import ResourceSeedError  # noqa: PLC0415

    errors: list[type[Exception]] = [
        UsageError,
        MockConfigError,
        report.PriceTableError,
        ResourceSeedError,
        DefinitionRejectedError,
        GraphError,
        PluginError,
    ]
    with contextlib.suppress(ImportError):
        from sfn_offline.template import DefinitionError, TemplateError  # noqa: PLC0415

        errors += [TemplateError, DefinitionError]
    return tuple(errors)


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- shared helpers -----------------------------------------------------------------------------------------------


def add_import_paths(layers: Sequence[Any]) -> None:
    """Put every layer directory a function names on ``sys.path``, as the Lambda runtime's /opt/python is."""
    for candidate in (Path(str(layer)) for layer in layers):
        text = str(candidate)
        if candidate.is_dir() and text not in sys.path:
            sys.path.append(text)


def read_json(path: str, what: str) -> Any:
    """A JSON file (``-`` for stdin) or a ``UsageError`` naming the file and the place."""
    if path == "-":
        text, label = sys.stdin.read(), "<stdin>"
    else:
        label = path
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{path}: cannot read the {what}: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{label}: line {exc.lineno} column {exc.colno}: the {what} is not valid JSON: {exc.msg}"
        ) from exc


def parse_pairs(pairs: Sequence[str], option: str) -> dict[str, str]:
    """``KEY=VALUE`` strings to a dict; a malformed one is a ``UsageError`` naming the option."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option}: {pair!r}: expected KEY=VALUE")
        parsed[key.strip()] = value
    return parsed


def load_template_file(path: str, overrides: Sequence[str]) -> Any:
    from sfn_offline.template import load_template  # noqa: PLC0415

    template_path = Path(path)
    if not template_path.is_file():
        raise UsageError(f"{path}: cannot read the template: No such file or directory")
    parameters = parse_pairs(overrides, "--parameter-overrides")
    template = load_template(template_path, parameters)
    for spec in template.functions.values():
        add_import_paths([layer for layer in getattr(spec, "layers", ()) or () if isinstance(layer, str | Path)])
    return template


def _plugins_of(args: argparse.Namespace) -> Plugins:
    """The plugins the pyproject.toml beside the template names, then the ``--plugin`` ones."""
    return project_plugins(Path(args.template).resolve().parent, args.plugin)


def _lookup(kind: str, table: Mapping[str, Any], logical_id: str, template: str) -> Any:
    found = table.get(logical_id)
    if found is None:
        known = ", ".join(sorted(table)) or "none"
        raise UsageError(f"{template}: Resources: no {kind} {logical_id!r} (defined: {known})")
    return found


def seed_buckets(template: Any, options: Sequence[str], stderr: IO[str]) -> None:
    """``--s3-dir [BUCKET=]DIR``: see :func:`sfn_offline.resources.seed_buckets` (call inside ``mock_aws``, after
    the resources exist)."""
    from sfn_offline.resources import seed_buckets as seed  # noqa: PLC0415

    for option in options:
        bucket, sep, folder = option.rpartition("=")
        for name, count in seed(template, Path(folder), bucket if sep else None).items():
            stderr.write(f"== {count} object(s) from {folder} put in the emulated bucket {name}\n")


def write_buckets(folder: Path | None, stderr: IO[str]) -> None:
    """``--s3-out``: every emulated bucket's objects to ``folder/<bucket>/<key>`` (call inside ``mock_aws``)."""
    if folder is None:
        return
    from sfn_offline.resources import write_buckets as write  # noqa: PLC0415

    for bucket, count in write(folder).items():
        stderr.write(f"== {count} object(s) of the emulated bucket {bucket} written to {folder / bucket}\n")


def _bedrock_backend(args: argparse.Namespace, plugins: Plugins) -> Any:
    """The SIMULATED Bedrock: the stand-in; a request containing a ``--json-answers`` marker gets that JSON, and one a
    plugin's ``json_schema_for`` recognises JSON valid for that schema."""
    from sfn_offline.schema_answers import SchemaAnswers  # noqa: PLC0415

    answers: Any = {}
    if getattr(args, "json_answers", None) is not None:
        answers = read_json(args.json_answers, "JSON answers")
        if not isinstance(answers, dict) or not answers:
            raise UsageError(f"{args.json_answers}: the JSON answers must be a non-empty object {{marker: answer}}")
    return SchemaAnswers(plugins.json_schema_for, answers)


def _add_json_answers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json-answers",
        metavar="FILE",
        help="a JSON object {marker: answer}: the simulated Bedrock answers a request containing a marker with that "
        "answer as JSON text; requests a project plugin's json_schema_for recognises get JSON generated from their "
        "schema; other requests get placeholder text",
    )


def memory_of(template: Any) -> Callable[[str], int]:
    """Function name, ARN or logical id -> its MemorySize in MB (128 when unknown)."""
    sizes: dict[str, int] = {}
    for spec in dict(getattr(template, "functions", {}) or {}).values():
        for key in (spec.logical_id, spec.name, spec.arn):
            sizes[str(key)] = int(spec.memory_mb or 128)
    return lambda key: sizes.get(key, sizes.get(key.rsplit(":", 1)[-1], 128))


# --- run ----------------------------------------------------------------------------------------------------------


def _load_definition_file(path: str) -> Any:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the definition: {exc.strerror or exc}") from exc
    if file.suffix.lower() in {".yaml", ".yml"}:
        import yaml  # noqa: PLC0415

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            place = f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else "YAML"
            problem = getattr(exc, "problem", None) or str(exc)
            raise UsageError(f"{path}: {place}: not valid YAML: {problem}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: line {exc.lineno} column {exc.colno}: not valid JSON: {exc.msg}") from exc


def substitute(value: Any, substitutions: Mapping[str, str]) -> Any:
    """Replace ``${KEY}`` in every string of a definition, as ``DefinitionSubstitutions`` does."""
    if isinstance(value, str):
        return _SUBSTITUTION.sub(lambda found: substitutions.get(found[1], found[0]), value)
    if isinstance(value, list):
        return [substitute(item, substitutions) for item in value]
    if isinstance(value, dict):
        return {key: substitute(item, substitutions) for key, item in value.items()}
    return value


def load_function_option(option: str) -> tuple[str, Callable[[Any, Any], Any]]:
    """``NAME=path/to/module.py:handler`` -> (NAME, handler)."""
    name, sep, target = option.partition("=")
    path, colon, attribute = target.rpartition(":")
    if not sep or not name or not colon or not path or not attribute:
        raise UsageError(f"--function: {option!r}: expected NAME=path/to/module.py:handler")
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{path}: --function {name}: cannot read the module: No such file or directory")
    module_name = "offline_function_" + re.sub(r"\W", "_", name)
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise UsageError(f"{path}: --function {name}: not a Python module")
    if str(file.resolve().parent) not in sys.path:
        sys.path.append(str(file.resolve().parent))
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise UsageError(f"{path}: --function {name}: importing failed: {type(exc).__name__}: {exc}") from exc
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise UsageError(f"{path}: --function {name}: no callable {attribute!r} in the module")
    return name, handler


def _execution_input(args: argparse.Namespace, machine: Any) -> Any:
    if args.event is not None:
        event = read_json(args.event, "event")
        if machine is None:
            raise UsageError("--event: a bare --definition has no Events to map it; pass --input")
        events = getattr(machine, "events", {}) or {}
        names = list(events) if isinstance(events, Mapping) else [getattr(item, "name", str(item)) for item in events]
        name = args.event_name
        if name is None:
            if len(names) != 1:
                listed = ", ".join(names) or "none"
                raise UsageError(
                    f"--event: {machine.logical_id} has {len(names)} Events ({listed}); name one with --event-name"
                )
            name = names[0]
        elif name not in names:
            raise UsageError(
                f"--event-name: {machine.logical_id} has no event {name!r} (defined: {', '.join(names) or 'none'})"
            )
        return machine.input_from_event(name, event)
    if args.event_name is not None:
        raise UsageError("--event-name: only meaningful with --event")
    if args.input is None:
        return {}
    return read_json(args.input, "input")


def _test_case(args: argparse.Namespace, candidates: Sequence[str]) -> Any:
    if args.mock_config is None:
        if args.test_case is not None:
            raise UsageError("--test-case: needs --mock-config")
        return None
    if args.test_case is None:
        raise UsageError("--mock-config: name the test case to apply with --test-case")
    from sfn_offline.mock_config import load_mock_config  # noqa: PLC0415

    config = load_mock_config(args.mock_config)
    names = [name for name in candidates if name in config.test_cases]
    if not names and len(config.test_cases) == 1:
        names = list(config.test_cases)
    return config.test_case(names[0] if names else candidates[0], args.test_case)


@contextlib.contextmanager
def _redirected_stdout(target: report.TextSink) -> Iterator[None]:
    with contextlib.redirect_stdout(target):
        yield


def _run(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:  # noqa: PLR0915
    if (args.logical_id is None) == (args.definition is None):
        raise UsageError("run: give a state machine LOGICAL_ID or --definition FILE (one of them)")
    if args.definition is None and (args.substitution or args.function):
        raise UsageError("--substitution/--function: only with --definition")
    for option, target in (("--graph", args.graph), ("--html", args.html)):
        if target is not None and not Path(target).parent.is_dir():
            raise UsageError(f"{target}: {option}: no such directory {str(Path(target).parent)!r}")
    prices = report.load_prices(args.prices)
    template: Any = None
    machine: Any = None
    if args.definition is not None:
        definition = substitute(
            _load_definition_file(args.definition), parse_pairs(args.substitution, "--substitution")
        )
        from sfn_offline.template import validate_definition  # noqa: PLC0415

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            validate_definition(definition, args.definition)
        for warning in caught:
            stderr.write(f"warning: {_one_line(str(warning.message))}\n")
        functions = dict(load_function_option(option) for option in args.function)
        names = [Path(args.definition).name.split(".")[0]]
        plugins = project_plugins(Path.cwd(), args.plugin)
    else:
        template = load_template_file(args.template, args.parameter_overrides)
        machine = _lookup("state machine", template.state_machines, args.logical_id, args.template)
        definition = machine.definition
        functions = {}
        names = [machine.logical_id, str(machine.name)]
        plugins = _plugins_of(args)
    execution_input = _execution_input(args, machine)
    test_case = _test_case(args, names)

    if not args.verbose:
        # moto logs each failure with the whole state's repr; the progress lines and the result say it once.
        logging.getLogger("moto.stepfunctions").setLevel(logging.CRITICAL)
    recorder = report.RunRecorder(token_usage=plugins.token_usage, fine_tuning_costs=plugins.fine_tuning_costs)
    bars = RunProgress.for_stream(stderr)
    progress = _both(report.ProgressPrinter(bars.stream), bars.on_event)
    sink = HandlerOutput(bars.stream if args.verbose else None)
    started = time.perf_counter()
    nested: list[NestedExecution] = []
    with offline_environment(), _redirected_stdout(sink), quiet_libraries(verbose=args.verbose), bars:
        from moto import mock_aws  # noqa: PLC0415

        from sfn_offline.engine import run_definition  # noqa: PLC0415

        with mock_aws():
            bedrock = recorder.wrap_bedrock(plugins.bedrock(_bedrock_backend(args, plugins)))
            options: dict[str, Any] = {"time_scale": args.time_scale, "trace": args.trace}
            if test_case is not None:
                options["mock"] = test_case
            try:
                if template is None:
                    seed_buckets(None, args.s3_dir, stderr)
                    plugins.before_run()
                    with _refusals_named(args.definition):
                        result: Any = run_definition(
                            definition,
                            execution_input,
                            functions=recorder.wrap_functions(functions, memory_of(None)),
                            bedrock=bedrock,
                            timeout=args.timeout,
                            on_event=progress,
                            **options,
                        )
                    plugins.after_run()
                else:
                    from sfn_offline.functions import handlers_for  # noqa: PLC0415
                    from sfn_offline.stack import OfflineStack, reachable_machines, reaches_the_account  # noqa: PLC0415

                    handlers = recorder.wrap_functions(handlers_for(template), memory_of(template))
                    # Only the machines this run can reach are parsed into moto (most of a run's start-up), and the
                    # template's resources exist only when something may use them.
                    machines = reachable_machines(template, machine.logical_id)
                    # (A plugin's before_run may expect them: "once the stores exist".)
                    stores = bool(args.s3_dir or args.s3_out) or reaches_the_account(
                        template.state_machines[logical_id].definition for logical_id in machines
                    )
                    stores = stores or any(plugin.before_run is not None for plugin in plugins.plugins)
                    with OfflineStack(
                        template,
                        functions=handlers,
                        bedrock=bedrock,
                        plugins=plugins,
                        machines=machines,
                        stores=stores,
                        **options,
                    ) as stack:
                        seed_buckets(template, args.s3_dir, stderr)
                        stack.listen(bars.listener)
                        with _refusals_named(f"{args.template}: {machine.logical_id}"):
                            arn = stack.start(machine.logical_id, execution_input)
                        bars.watch(arn)
                        result = stack.wait(arn, timeout=args.timeout, on_event=progress)
                        if not args.json or args.graph or args.html or args.report:  # the only readers
                            nested = nested_executions(stack, str(getattr(result, "execution_arn", "")))
            except TimeoutError as exc:  # engines that raise instead of returning TIMED_OUT
                result = _timed_out(str(exc))
            write_buckets(args.s3_out, stderr)
    seconds = _seconds(result, time.perf_counter() - started)
    status = str(result.status)
    if args.json:
        document: dict[str, Any] = {
            "status": status,
            "output": result.output,
            "error": result.error,
            "cause": result.cause,
        }
        if args.trace:
            document["trace"] = getattr(result, "trace", None) or []
        stdout.write(json.dumps(document, ensure_ascii=False, default=str) + "\n")
    else:
        if status == _FINAL_STATUS_OK:
            stdout.write(json.dumps(result.output, indent=2, ensure_ascii=False, default=str) + "\n")
        else:
            stdout.write(f"== {status}\nerror: {result.error}\ncause: {result.cause}\n")
        if args.trace:
            trace = getattr(result, "trace", None) or []
            stdout.write("== Trace\n" + json.dumps(trace, indent=2, ensure_ascii=False, default=str) + "\n")
        summary = report.summarize(
            status=status,
            seconds=seconds,
            history=list(result.history or []),
            definition_bytes=len(definition if isinstance(definition, str) else json.dumps(definition)),
            recorder=recorder,
            prices=prices,
            nested_histories=[execution.history for execution in nested],
        )
        stdout.write(report.render_summary(summary) + "\n")
    if args.graph or args.html or args.report:
        title = names[0] if machine is None else str(machine.logical_id)
        views = views_of_run(title, definition_document(definition, title), result, nested)
        try:
            written = write_pictures(views, mermaid=args.graph, html=args.html, report_dir=args.report)
        except OSError as exc:
            raise UsageError(f"{exc.filename}: cannot write the execution graph: {exc.strerror or exc}") from exc
        for path in written:
            stderr.write(f"== execution graph written to {path}\n")
    return 0 if status == _FINAL_STATUS_OK else 1


def _both(*callbacks: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def call(event: dict[str, Any]) -> None:
        for callback in callbacks:
            callback(event)

    return call


# --- graph --------------------------------------------------------------------------------------------------------


def _graph(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    if (args.logical_id is None) == (args.definition is None):
        raise UsageError("graph: give a state machine LOGICAL_ID or --definition FILE (one of them)")
    if args.definition is not None:
        definition = substitute(
            _load_definition_file(args.definition), parse_pairs(args.substitution, "--substitution")
        )
        title = Path(args.definition).name.split(".")[0]
        where = args.definition
    else:
        if args.substitution:
            raise UsageError("--substitution: only with --definition")
        template = load_template_file(args.template, args.parameter_overrides)
        machine = _lookup("state machine", template.state_machines, args.logical_id, args.template)
        definition, title = machine.definition, str(machine.logical_id)
        where = f"{args.template}: {title}"
    graph = build_graph(definition_document(definition, where), where)
    stdout.write(to_mermaid(graph))
    if args.html is not None:
        try:
            Path(args.html).write_text(render_html([ExecutionView(title, graph)], title), encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{args.html}: cannot write the graph: {exc.strerror or exc}") from exc
        stderr.write(f"== graph written to {args.html}\n")
    return 0


@contextlib.contextmanager
def _refusals_named(path: str) -> Iterator[None]:
    """CreateStateMachine's and StartExecution's refusals (bad input: nothing ran) as a ``UsageError`` naming
    ``path``, with the API's error code."""
    from botocore.exceptions import ClientError  # noqa: PLC0415

    from sfn_offline.engine import DefinitionRejectedError  # noqa: PLC0415

    try:
        yield
    except DefinitionRejectedError as exc:
        raise UsageError(f"{path}: {exc}", exc.code) from exc
    except ClientError as exc:
        if exc.operation_name != "StartExecution":
            raise
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "InvalidExecutionInput")
        raise UsageError(f"{path}: StartExecution: {code}: {error.get('Message') or exc}", code) from exc


class _TimedOutResult:
    def __init__(self, cause: str) -> None:
        self.status = "TIMED_OUT"
        self.output = None
        self.error = "States.Timeout"
        self.cause = cause
        self.history: list[dict[str, Any]] = []
        self.trace: list[dict[str, Any]] = []


def _timed_out(cause: str) -> _TimedOutResult:
    return _TimedOutResult(cause)


def _seconds(result: Any, measured: float) -> float:
    try:
        return float((result.stopped_at - result.started_at).total_seconds())
    except (TypeError, AttributeError):
        return measured


# --- invoke -------------------------------------------------------------------------------------------------------


def _invoke(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    template = load_template_file(args.template, args.parameter_overrides)
    spec = _lookup("function", template.functions, args.logical_id, args.template)
    event = read_json(args.event, "event")
    plugins = _plugins_of(args)
    # load_function's handler applies the function's own environment for the duration of each call.
    with offline_environment(), _redirected_stdout(HandlerOutput(stderr)), quiet_libraries(verbose=args.verbose):
        from moto import mock_aws  # noqa: PLC0415

        from sfn_offline.functions import load_function  # noqa: PLC0415
        from sfn_offline.lambda_api import LocalLambdaContext  # noqa: PLC0415

        with mock_aws():
            create_stores(template)
            seed_buckets(template, args.s3_dir, stderr)
            plugins.before_run()
            handler = load_function(spec)
            context = LocalLambdaContext(
                function_name=str(spec.name),
                memory_limit_in_mb=int(spec.memory_mb or 128),
                timeout_seconds=float(spec.timeout or 3),
            )
            try:
                value = handler(event, context)
            except Exception as exc:  # noqa: BLE001  (reported as the Lambda runtime reports it)
                envelope = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
                failed = True
            else:
                failed = False
            write_buckets(args.s3_out, stderr)
            plugins.after_run()
    if failed:
        stdout.write(json.dumps(envelope, ensure_ascii=False) + "\n")
        return 1
    stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
    return 0


# --- api ----------------------------------------------------------------------------------------------------------


def _api(args: argparse.Namespace, stdout: IO[str], stderr: IO[str]) -> int:
    from sfn_offline import api_server  # noqa: PLC0415

    if not api_server.is_loopback(args.host):
        raise UsageError(f"--host {args.host}: only loopback addresses are served (127.0.0.1, ::1, localhost)")
    template = load_template_file(args.template, args.parameter_overrides)
    plugins = _plugins_of(args)
    bedrock = plugins.bedrock(_bedrock_backend(args, plugins))
    with (
        offline_environment(),
        quiet_libraries(verbose=args.verbose),
        api_server.serving(
            template, args.host, args.port, log=stderr, bedrock=bedrock, s3_dirs=args.s3_dir, plugins=plugins
        ) as server,
    ):
        # The bound socket's own address: typeshed allows a bytes host in server_address, which TCP never gives.
        host, port = server.socket.getsockname()[:2]
        for line in api_server.describe_routes(template):
            stdout.write(f"{line}\n")
        stdout.write(f"Serving on http://{host}:{port} (Ctrl-C to stop)\n")
        stdout.flush()
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0
