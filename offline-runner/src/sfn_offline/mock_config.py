"""Load AWS's mock-config file (Step Functions Local / LocalStack ``MockConfigFile.json``) as-is.

The format (AWS Step Functions developer guide, "Configuration file for mocked service integrations",
https://docs.aws.amazon.com/step-functions/latest/dg/sfn-local-mock-cfg-file.html)::

    {"StateMachines": {"<StateMachine>": {"TestCases": {"<Case>": {"<StateName>": "<MockedResponseName>"}}}},
     "MockedResponses": {"<MockedResponseName>": {"0": {"Return": {...}},
                                                  "1-2": {"Throw": {"Error": "...", "Cause": "..."}}}}}

Keys of a mocked response are invocation numbers of the Task state (0 for the first), single (``"3"``) or an
inclusive range (``"0-2"``). States a test case does not name run for real (``response_for`` returns ``None``).

What happens after the last listed invocation: AWS documents no repetition. The guide says "When you mock a Task, you
must specify a mocked response for every invocation [...] If you do not specify a mocked response, the state machine
execution will fail." So ``response_for`` raises ``MockedResponseExhaustedError`` for an invocation past the last key,
and the engine should fail the execution with it rather than silently repeating the last entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TOP_LEVEL_KEYS = frozenset({"StateMachines", "MockedResponses"})
_ATTEMPT_KEY = re.compile(r"(?P<first>0|[1-9]\d*)(?:-(?P<last>0|[1-9]\d*))?")


class MockConfigError(ValueError):
    """The mock-config file is not valid; the message names the file and the place in it."""


class MockedResponseExhaustedError(MockConfigError):
    """A mocked state was invoked more often than its mocked response lists; AWS fails the execution then."""


@dataclass(frozen=True)
class MockedResponse:
    """One invocation's mocked outcome: either ``returns`` (the raw service result) or ``throws`` (error, cause)."""

    returns: Any = None
    throws: tuple[str, str] | None = None

    @property
    def is_error(self) -> bool:
        return self.throws is not None


@dataclass(frozen=True)
class _AttemptRange:
    first: int
    last: int
    response: MockedResponse


@dataclass(frozen=True)
class MockedResponseSequence:
    """A named mocked response: outcomes by invocation number, contiguous from 0."""

    name: str
    ranges: tuple[_AttemptRange, ...]

    @property
    def attempts(self) -> int:
        """How many invocations the sequence covers."""
        return self.ranges[-1].last + 1

    def at(self, attempt: int) -> MockedResponse | None:
        """The outcome of invocation ``attempt`` (0-based), or ``None`` past the last listed one."""
        for span in self.ranges:
            if span.first <= attempt <= span.last:
                return span.response
        return None


@dataclass(frozen=True)
class TestCase:
    """One test case of one state machine: which states are mocked, and with what."""

    __test__ = False  # Not a pytest test class, despite the name AWS gives it.

    state_machine: str
    name: str
    states: Mapping[str, MockedResponseSequence] = field(default_factory=dict)

    def response_for(self, state_name: str, attempt: int) -> MockedResponse | None:
        """The mocked outcome of a state's invocation, or ``None`` when the test case does not mock the state.

        Raises
        ------
        MockedResponseExhaustedError
            The state is mocked but ``attempt`` is past the last invocation its mocked response lists.
        """
        sequence = self.states.get(state_name)
        if sequence is None:
            return None
        response = sequence.at(attempt)
        if response is None:
            raise MockedResponseExhaustedError(
                f"test case {self.state_machine}/{self.name}: state {state_name!r} was invoked "
                f"{attempt + 1} time(s) but mocked response {sequence.name!r} covers only {sequence.attempts}; "
                "AWS fails the execution when an invocation has no mocked response",
            )
        return response


@dataclass(frozen=True)
class MockConfig:
    """A loaded, validated mock-config file."""

    source: str
    test_cases: Mapping[str, Mapping[str, TestCase]]
    responses: Mapping[str, MockedResponseSequence]

    def test_case(self, state_machine: str, case: str) -> TestCase:
        """Look up a test case; the error lists what the file does define."""
        cases = self.test_cases.get(state_machine)
        if cases is None:
            known = ", ".join(sorted(self.test_cases)) or "none"
            raise MockConfigError(f"{self.source}: no state machine {state_machine!r} (defined: {known})")
        found = cases.get(case)
        if found is None:
            known = ", ".join(sorted(cases)) or "none"
            raise MockConfigError(
                f"{self.source}: state machine {state_machine!r} has no test case {case!r} (defined: {known})",
            )
        return found


def _object(value: Any, source: str, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MockConfigError(f"{source}: {where} must be a JSON object, got {type(value).__name__}")
    return value


def _parse_response(name: str, key: str, value: Any, source: str) -> MockedResponse:
    where = f"MockedResponses.{name}[{key!r}]"
    entry = _object(value, source, where)
    kinds = [kind for kind in ("Return", "Throw") if kind in entry]
    extra = sorted(set(entry) - {"Return", "Throw"})
    if len(kinds) != 1 or extra:
        found = ", ".join(sorted(entry)) or "nothing"
        raise MockConfigError(f"{source}: {where} must hold exactly one of Return or Throw, found {found}")
    if kinds[0] == "Return":
        return MockedResponse(returns=entry["Return"])
    throw = _object(entry["Throw"], source, f"{where}.Throw")
    error = throw.get("Error")
    if not isinstance(error, str) or not error:
        raise MockConfigError(f"{source}: {where}.Throw needs an Error string")
    # AWS documents Cause as a string too; a missing one is accepted as empty, as Step Functions does for Fail states.
    cause = throw.get("Cause", "")
    if not isinstance(cause, str):
        raise MockConfigError(f"{source}: {where}.Throw.Cause must be a string, got {type(cause).__name__}")
    return MockedResponse(throws=(error, cause))


def _parse_sequence(name: str, value: Any, source: str) -> MockedResponseSequence:
    entries = _object(value, source, f"MockedResponses.{name}")
    if not entries:
        raise MockConfigError(f"{source}: MockedResponses.{name} lists no invocation")
    ranges: list[_AttemptRange] = []
    for key, entry in entries.items():
        match = _ATTEMPT_KEY.fullmatch(key)
        if match is None:
            raise MockConfigError(
                f"{source}: MockedResponses.{name} has key {key!r}; keys are invocation numbers 'N' or ranges 'N-M'",
            )
        first = int(match["first"])
        last = int(match["last"]) if match["last"] is not None else first
        if last < first:
            raise MockConfigError(f"{source}: MockedResponses.{name} has range {key!r} that ends before it starts")
        ranges.append(_AttemptRange(first, last, _parse_response(name, key, entry, source)))
    ranges.sort(key=lambda span: span.first)
    expected = 0
    for span in ranges:
        label = f"{span.first}" if span.first == span.last else f"{span.first}-{span.last}"
        if span.first < expected:
            raise MockConfigError(
                f"{source}: MockedResponses.{name} key {label!r} overlaps invocation {span.first} listed before",
            )
        if span.first > expected:
            raise MockConfigError(
                f"{source}: MockedResponses.{name} skips invocation {expected} (next key is {label!r}); "
                "invocations must be listed contiguously from 0",
            )
        expected = span.last + 1
    return MockedResponseSequence(name, tuple(ranges))


def _parse(document: Any, source: str) -> MockConfig:
    root = _object(document, source, "the top level")
    unknown = sorted(set(root) - _TOP_LEVEL_KEYS)
    if unknown:
        raise MockConfigError(
            f"{source}: unknown top-level key(s) {', '.join(unknown)}; expected StateMachines and MockedResponses",
        )
    raw_responses = _object(root.get("MockedResponses", {}), source, "MockedResponses")
    responses = {name: _parse_sequence(name, value, source) for name, value in raw_responses.items()}
    machines = _object(root.get("StateMachines", {}), source, "StateMachines")
    test_cases: dict[str, dict[str, TestCase]] = {}
    for machine, machine_value in machines.items():
        machine_object = _object(machine_value, source, f"StateMachines.{machine}")
        extra = sorted(set(machine_object) - {"TestCases"})
        if extra:
            raise MockConfigError(
                f"{source}: StateMachines.{machine} has unknown key(s) {', '.join(extra)}; only TestCases is allowed",
            )
        cases = _object(machine_object.get("TestCases", {}), source, f"StateMachines.{machine}.TestCases")
        test_cases[machine] = {}
        for case, case_value in cases.items():
            where = f"StateMachines.{machine}.TestCases.{case}"
            mapping = _object(case_value, source, where)
            states: dict[str, MockedResponseSequence] = {}
            for state, response_name in mapping.items():
                if not isinstance(response_name, str):
                    raise MockConfigError(f"{source}: {where}.{state} must name a MockedResponse (a string)")
                if response_name not in responses:
                    raise MockConfigError(
                        f"{source}: {where}.{state} names MockedResponse {response_name!r}, "
                        "which MockedResponses does not define",
                    )
                states[state] = responses[response_name]
            test_cases[machine][case] = TestCase(machine, case, states)
    return MockConfig(source, test_cases, responses)


def load_mock_config(source: str | Path | Mapping[str, Any]) -> MockConfig:
    """Load and validate a mock-config file (a path) or an already-parsed document (a mapping).

    Raises
    ------
    MockConfigError
        The file is missing, not JSON (with line and column), or breaks the format; the message names the file and
        the place in it.
    """
    if isinstance(source, Mapping):
        return _parse(dict(source), "<mock config>")
    path = Path(source)
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise MockConfigError(f"{label}: cannot read the mock-config file: {exc.strerror or exc}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MockConfigError(f"{label}: not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    return _parse(document, label)


def as_bedrock_script(test_case: TestCase) -> dict[str, list[dict[str, Any]]]:
    """The test case's mocked states as ``BedrockStandIn.script`` input: one entry per invocation.

    ``Return`` of an invokeModel task is the task result ``{"Body": ..., "ContentType": ...}`` (shared notes); the
    stand-in scripts the native body, so a ``Body`` is unwrapped (and parsed when it is a JSON string).
    """
    scripts: dict[str, list[dict[str, Any]]] = {}
    for state, sequence in test_case.states.items():
        entries: list[dict[str, Any]] = []
        for attempt in range(sequence.attempts):
            response = sequence.at(attempt)
            if response is None:  # Unreachable: sequences are contiguous from 0.
                continue
            if response.throws is not None:
                error, cause = response.throws
                entries.append({"Throw": {"Error": error, "Cause": cause}})
            else:
                entries.append({"Return": _native_body(response.returns)})
        scripts[state] = entries
    return scripts


def _native_body(returned: Any) -> Any:
    if isinstance(returned, dict) and "Body" in returned:
        body = returned["Body"]
        if isinstance(body, str):
            try:
                return json.loads(body)
            except json.JSONDecodeError:
                return body
        return body
    return returned
