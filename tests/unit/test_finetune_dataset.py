"""The fine-tuning dataset rules in isolation: formats per base model, bad records, limits, hyperparameters, split."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from companion.errors import HyperparameterValidationError, UnsupportedBaseModelError
from companion.finetune import (
    CustomizationType,
    DatasetRole,
    DatasetRules,
    RecordFormat,
    Split,
    dataset_rules,
    find_base_model,
    goes_to_validation,
    validate_hyperparameters,
    validate_lines,
)
from companion.lines import OversizedLine, split_lines

NOVA = "amazon.nova-lite-v1:0:300k"
TITAN = "amazon.titan-text-express-v1:0:8k"
CLAUDE = "anthropic.claude-3-haiku-20240307-v1:0:200k"
COHERE = "cohere.command-light-text-v14:7:4k"
LLAMA = "meta.llama3-1-8b-instruct-v1:0:128k"

RECORDS: dict[RecordFormat, Callable[[int], dict[str, Any]]] = {
    RecordFormat.PROMPT_COMPLETION: lambda i: {"prompt": f"Question {i}?", "completion": f"Answer {i}."},
    RecordFormat.CONVERSATION: lambda i: {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"text": f"Question {i}?"}]},
            {"role": "assistant", "content": [{"text": f"Answer {i}."}]},
        ],
    },
    RecordFormat.CLAUDE_MESSAGES: lambda i: {
        "system": "Be brief.",
        "messages": [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": f"Answer {i}."}],
    },
    RecordFormat.PRE_TRAINING: lambda i: {"input": f"Document {i} about queues."},
}


def _rules(model_id: str, customization: CustomizationType = CustomizationType.FINE_TUNING, **hp: str) -> DatasetRules:
    return dataset_rules(find_base_model(model_id), customization, hp)


def _lines(record_format: RecordFormat, count: int = 40) -> list[bytes]:
    return [json.dumps(RECORDS[record_format](i)).encode() for i in range(count)]


class MemorySink:
    """An in-memory LineSink that records its lifecycle."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.state = "open"

    def write(self, line: bytes) -> None:
        assert self.state == "open", "written after commit or abort"
        self.lines.append(line)

    def commit(self) -> None:
        assert self.state == "open"
        self.state = "committed"

    def abort(self) -> None:
        self.state = "aborted"


# ------------------------------------------------------------------------------------------------ formats per model


@pytest.mark.parametrize(
    ("model_id", "customization", "record_format"),
    [
        (NOVA, CustomizationType.FINE_TUNING, RecordFormat.CONVERSATION),
        ("amazon.nova-micro-v1:0:128k", CustomizationType.FINE_TUNING, RecordFormat.CONVERSATION),
        (TITAN, CustomizationType.FINE_TUNING, RecordFormat.PROMPT_COMPLETION),
        (TITAN, CustomizationType.CONTINUED_PRE_TRAINING, RecordFormat.PRE_TRAINING),
        ("amazon.titan-text-lite-v1:0:4k", CustomizationType.CONTINUED_PRE_TRAINING, RecordFormat.PRE_TRAINING),
        (CLAUDE, CustomizationType.FINE_TUNING, RecordFormat.CLAUDE_MESSAGES),
        (COHERE, CustomizationType.FINE_TUNING, RecordFormat.PROMPT_COMPLETION),
        ("cohere.command-text-v14:7:4k", CustomizationType.FINE_TUNING, RecordFormat.PROMPT_COMPLETION),
        (LLAMA, CustomizationType.FINE_TUNING, RecordFormat.PROMPT_COMPLETION),
        ("meta.llama3-2-1b-instruct-v1:0:128k", CustomizationType.FINE_TUNING, RecordFormat.PROMPT_COMPLETION),
        ("meta.llama3-2-11b-instruct-v1:0:128k", CustomizationType.FINE_TUNING, RecordFormat.CONVERSATION),
        # ARNs that embed the base model: a foundation model, and a custom model trained further
        (
            f"arn:aws:bedrock:us-east-1::foundation-model/{NOVA}",
            CustomizationType.FINE_TUNING,
            RecordFormat.CONVERSATION,
        ),
        (
            f"arn:aws:bedrock:us-east-1:123456789012:custom-model/{TITAN}/abc123",
            CustomizationType.FINE_TUNING,
            RecordFormat.PROMPT_COMPLETION,
        ),
    ],
)
def test_each_base_model_gets_its_format_and_a_valid_dataset_passes(
    model_id: str, customization: CustomizationType, record_format: RecordFormat
) -> None:
    # Given the rules for the base model
    rules = _rules(model_id, customization)
    # When a dataset of well-formed records of that format is validated
    report = validate_lines(_lines(record_format), rules)
    # Then the format matches and every record counts
    assert rules.record_format is record_format
    assert report.valid, report.first_invalid_lines
    assert (report.lines, report.totals.records, report.invalid_lines) == (40, 40, 0)


@pytest.mark.parametrize(
    "model_id",
    [
        "openai.gpt-9",
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "arn:aws:bedrock:us-east-1:1:provisioned-model/x",
        "",
    ],
)
def test_an_unknown_base_model_is_named_with_the_supported_ones(model_id: str) -> None:
    with pytest.raises(UnsupportedBaseModelError, match="supported: Amazon Nova") as caught:
        find_base_model(model_id)
    assert repr(model_id) in str(caught.value)


def test_a_customization_type_the_model_lacks_is_refused() -> None:
    with pytest.raises(UnsupportedBaseModelError, match=r"Claude 3 Haiku supports FINE_TUNING, not CONTINUED_PRE"):
        _rules(CLAUDE, CustomizationType.CONTINUED_PRE_TRAINING)


def test_a_larger_titan_batch_lowers_the_tokens_a_record_may_hold() -> None:
    # Express holds 4,096 tokens a record at batch size 1 and 2,048 above (AWS's dataset requirements)
    assert _rules(TITAN, batchSize="1").limits.max_record_tokens == 4096
    small = _rules(TITAN, batchSize="4").limits
    assert (small.max_record_tokens, small.max_record_chars) == (2048, 2048 * 6)
    record = json.dumps({"prompt": "p" * 13_000, "completion": "c"}).encode()
    assert validate_lines([record] * 40, _rules(TITAN, batchSize="1")).valid
    assert not validate_lines([record] * 40, _rules(TITAN, batchSize="4")).valid


# --------------------------------------------------------------------------------------------------- bad records


def _conversation(*roles: str, **extra: Any) -> dict[str, Any]:
    turns = [{"role": role, "content": [{"text": f"turn {i}"}]} for i, role in enumerate(roles)]
    return {"schemaVersion": "bedrock-conversation-2024", "messages": turns, **extra}


def _claude(*roles: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": role, "content": f"turn {i}"} for i, role in enumerate(roles)], **extra}


BAD_RECORDS = [
    ("bad JSON", LLAMA, b'{"prompt": "a", "completion": ', "not valid JSON"),
    ("not an object", LLAMA, b'["prompt", "completion"]', "not a JSON object"),
    ("missing key", LLAMA, {"prompt": "a"}, "completion: missing (a record has the keys prompt, completion)"),
    ("extra key", LLAMA, {"prompt": "a", "completion": "b", "label": 1}, "label: unexpected key"),
    ("empty completion", COHERE, {"prompt": "a", "completion": "   "}, "completion: is empty or only whitespace"),
    ("a number for text", TITAN, {"prompt": "a", "completion": 42}, "completion: Input should be a valid string"),
    (
        "wrong format",
        CLAUDE,
        {"prompt": "a", "completion": "b"},
        "looks like a prompt_completion record; this base model takes claude_messages records (prompt: unexpected key",
    ),
    ("claude: one message", CLAUDE, _claude("user"), "messages: List should have at least 2 items"),
    ("claude: assistant first", CLAUDE, _claude("assistant", "user", "assistant"), "must come from the user"),
    ("claude: two users", CLAUDE, _claude("user", "user", "assistant"), "messages[1].role: two user messages"),
    ("claude: user last", CLAUDE, _claude("user", "assistant", "user"), "messages[2].role: the last message"),
    ("claude: extra key", CLAUDE, _claude("user", "assistant", temperature=1), "temperature: unexpected key"),
    (
        "claude: null system",
        CLAUDE,
        _claude("user", "assistant", system=None),
        "system: Input should be a valid string",
    ),
    ("claude: bad role", CLAUDE, _claude("user", "bot"), "messages[1].role: Input should be 'user' or 'assistant'"),
    ("nova: wrong schema", NOVA, _conversation("user", "assistant", schemaVersion="v1"), "schemaVersion: Input should"),
    ("nova: text not in a list", NOVA, {**_conversation("user", "assistant"), "system": "Hi"}, "system: Input should"),
    ("nova: alternation", NOVA, _conversation("user", "assistant", "assistant"), "two assistant messages"),
    (
        "nova: empty content",
        NOVA,
        {**_conversation("user"), "messages": [{"role": "user", "content": []}] * 2},
        "at least 1",
    ),
    (
        "nova: reserved word",
        NOVA,
        _conversation("user", "assistant", system=[{"text": "Bot: hi"}]),
        "'Bot:', a reserved",
    ),
    ("pre-training: no input", TITAN, {"text": "a"}, "text: unexpected key (a record has the keys input)"),
    ("pre-training: a fine-tuning record", TITAN, {"prompt": "a", "completion": "b"}, "looks like a prompt_completion"),
]


@pytest.mark.parametrize(("name", "model_id", "bad", "reason"), BAD_RECORDS, ids=[case[0] for case in BAD_RECORDS])
def test_each_kind_of_bad_record_is_reported_with_its_line_and_reason(
    name: str, model_id: str, bad: bytes | dict[str, Any], reason: str
) -> None:
    # Given a valid dataset with one bad record on line 7
    customization = (
        CustomizationType.CONTINUED_PRE_TRAINING if "pre-training" in name else CustomizationType.FINE_TUNING
    )
    rules = _rules(model_id, customization)
    lines = _lines(rules.record_format)
    lines[6] = bad if isinstance(bad, bytes) else json.dumps(bad).encode()
    # When validated
    report = validate_lines(lines, rules)
    # Then exactly that line is refused, with a reason that says what and where, and the rest still counts
    assert not report.valid
    assert report.invalid_lines == 1
    assert [problem.line for problem in report.first_invalid_lines] == [7]
    assert reason in report.first_invalid_lines[0].reason
    assert report.totals.records == 39


def test_text_of_the_record_never_appears_in_a_reason() -> None:
    # Records are user data; reasons go to logs and Step Functions causes.
    secret = json.dumps({"prompt": "SECRET-PATIENT-NOTE", "completion": 7, "note": "SECRET-2"}).encode()
    report = validate_lines([secret], _rules(LLAMA))
    assert "SECRET" not in report.first_invalid_lines[0].reason


def test_bytes_that_are_not_utf8_are_named() -> None:
    lines = _lines(RecordFormat.PROMPT_COMPLETION)
    lines[2] = b'{"prompt": "caf\xe9", "completion": "b"}'
    report = validate_lines(lines, _rules(LLAMA))
    assert report.first_invalid_lines[0].line == 3
    assert "not valid UTF-8 (byte 0xe9 at byte 16 of the line)" in report.first_invalid_lines[0].reason


def test_a_byte_order_mark_is_named() -> None:
    lines = _lines(RecordFormat.PROMPT_COMPLETION)
    lines[0] = "\ufeff".encode() + lines[0]
    report = validate_lines(lines, _rules(LLAMA))
    assert "byte order mark" in report.first_invalid_lines[0].reason


def test_an_over_long_record_is_refused_by_its_estimated_tokens() -> None:
    # Given Cohere's 4,096 tokens a record, i.e. 24,576 characters at ~6 characters a token
    rules = _rules(COHERE)
    lines = _lines(RecordFormat.PROMPT_COMPLETION)
    lines[4] = json.dumps({"prompt": "p" * 20_000, "completion": "c" * 4_577}).encode()  # 24,577 characters
    lines[5] = json.dumps({"prompt": "p" * 20_000, "completion": "c" * 4_576}).encode()  # exactly at the limit
    report = validate_lines(lines, rules)
    assert [problem.line for problem in report.first_invalid_lines] == [5]
    assert "24,577 characters (~4,097 tokens)" in report.first_invalid_lines[0].reason
    assert "at most 24,576 (~4,096 tokens)" in report.first_invalid_lines[0].reason


def test_a_line_too_long_for_any_record_is_refused_without_being_held() -> None:
    # Given a 3 MB line streamed in 64 KiB chunks, where no valid Cohere record takes more than ~360 KB
    rules = _rules(COHERE)
    valid = b"\n".join(_lines(RecordFormat.PROMPT_COMPLETION)) + b"\n"
    data = valid + b'{"prompt": "' + b"x" * 3_000_000 + b'", "completion": "c"}\n' + valid
    chunks = [data[i : i + 65_536] for i in range(0, len(data), 65_536)]
    # When split and validated
    report = validate_lines(split_lines(chunks, rules.max_line_bytes), rules)
    # Then line 41 is refused by its size and the 80 others count
    assert [problem.line for problem in report.first_invalid_lines] == [41]
    assert "the line is 3,000,033 bytes" in report.first_invalid_lines[0].reason
    assert report.totals.records == 80


def test_the_first_n_invalid_lines_are_listed_and_all_are_counted() -> None:
    # Given 500 lines: a blank line every 10 lines, and a bad record on every line number divisible by 7
    lines = []
    for number in range(1, 501):
        if number % 10 == 0:
            lines.append(b"  ")
        elif number % 7 == 0:
            lines.append(b"{oops")
        else:
            lines.append(json.dumps(RECORDS[RecordFormat.PROMPT_COMPLETION](number)).encode())
    # When validated with at most 5 reported
    report = validate_lines(lines, _rules(LLAMA), max_reported=5)
    # Then the first five bad line numbers (1-based, blank lines counted) are listed, and every bad line counted
    bad = [n for n in range(1, 501) if n % 7 == 0 and n % 10 != 0]
    assert [problem.line for problem in report.first_invalid_lines] == bad[:5] == [7, 14, 21, 28, 35]
    assert report.invalid_lines == len(bad)
    assert report.blank_lines == 50
    assert report.totals.records == 500 - 50 - len(bad)
    assert report.lines == 500


def test_record_count_limits() -> None:
    # Too few for training (Cohere needs 32), none at all, too many for a validation file (Claude takes 1,000)
    few = validate_lines(_lines(RecordFormat.PROMPT_COMPLETION, 31), _rules(COHERE))
    assert few.problems == ["the dataset has 31 valid records; Cohere Command Light needs at least 32"]
    empty = validate_lines([b"", b"   "], _rules(COHERE))
    assert empty.problems == ["the dataset has no valid records"]
    assert empty.blank_lines == 2
    many = validate_lines(_lines(RecordFormat.CLAUDE_MESSAGES, 1001), _rules(CLAUDE), role=DatasetRole.VALIDATION)
    assert many.problems == [
        "the dataset has 1,001 records; Anthropic Claude 3 Haiku takes at most 1,000 validation records"
    ]


def test_sizes_are_summed_and_spread_per_record() -> None:
    # Given records of 6, 12 and 60 characters of text
    lines = [json.dumps({"prompt": "p" * n, "completion": "c" * n}).encode() for n in (3, 6, 30)] * 11
    report = validate_lines(lines, _rules(LLAMA))
    totals = report.totals
    assert totals.records == 33
    assert totals.characters == 11 * (6 + 12 + 60)
    assert totals.estimated_tokens == 11 * (1 + 2 + 10)
    assert totals.bytes == sum(len(line) + 1 for line in lines)
    assert totals.characters_per_record is not None
    assert totals.tokens_per_record is not None
    assert (totals.characters_per_record.min, totals.characters_per_record.max) == (6, 60)
    assert totals.characters_per_record.mean == 26.0
    assert (totals.tokens_per_record.min, totals.tokens_per_record.max, totals.tokens_per_record.mean) == (1, 10, 4.3)


# ---------------------------------------------------------------------------------------------- hyperparameters


def test_hyperparameters_are_normalized_to_strings() -> None:
    nova = find_base_model(NOVA)
    given = {"epochCount": 2, "learningRate": 1e-5, "learningRateWarmupSteps": " 010 "}
    assert validate_hyperparameters(nova, given) == {
        "epochCount": "2",
        "learningRate": "0.00001",
        "learningRateWarmupSteps": "10",
    }
    claude = find_base_model(CLAUDE)
    assert validate_hyperparameters(claude, {"learningRateMultiplier": "2.000", "batchSize": "256"}) == {
        "learningRateMultiplier": "2",
        "batchSize": "256",
    }
    assert validate_hyperparameters(claude, {}) == {}


def test_every_hyperparameter_problem_is_listed_in_one_error() -> None:
    # Given five problems at once
    given: dict[str, str | int | float] = {
        "epochcount": 2,  # wrong case
        "batchSize": 2.0,  # a float for an integer
        "learningRateMultiplier": "fast",
        "earlyStoppingThreshold": "0.5",  # over 0.1
        "earlyStoppingPatience": "2.5",
        "dropout": "0.1",
    }
    # When validated for Claude 3 Haiku
    with pytest.raises(HyperparameterValidationError) as caught:
        validate_hyperparameters(find_base_model(CLAUDE), given)
    # Then one error lists every problem with what is allowed
    problems = caught.value.problems
    assert len(problems) == 6
    assert problems[0].startswith("unknown hyperparameter 'epochcount' (did you mean 'epochCount'?)")
    assert "batchSize: expected a whole number, got 2.0" in problems
    assert "learningRateMultiplier: expected a number, got 'fast'" in problems
    assert "earlyStoppingThreshold: 0.5 is out of range: allowed from 0 to 0.1" in problems
    assert "earlyStoppingPatience: expected a whole number, got '2.5'" in problems
    assert problems[-1].startswith("unknown hyperparameter 'dropout'; Anthropic Claude 3 Haiku accepts epochCount,")
    assert str(caught.value).startswith("hyperparameters for Anthropic Claude 3 Haiku: 6 problems: ")


@pytest.mark.parametrize(
    ("model_id", "name", "value", "allowed"),
    [
        (NOVA, "epochCount", 6, "from 1 to 5"),
        (NOVA, "learningRate", "0.0002", "from 0.000001 to 0.0001"),
        (NOVA, "learningRateWarmupSteps", -1, "from 0 to 100"),
        (CLAUDE, "batchSize", 2, "from 4 to 256"),
        (CLAUDE, "learningRateMultiplier", 0.05, "from 0.1 to 2"),
        (COHERE, "batchSize", 64, "from 8 to 32"),
        ("cohere.command-text-v14:7:4k", "batchSize", 16, "from 8 to 8"),
        (COHERE, "evalPercentage", 60, "from 5 to 50"),
        (LLAMA, "batchSize", 2, "from 1 to 1"),
        (LLAMA, "learningRate", "1e-6", "from 0.000005 to 0.1"),
        (TITAN, "learningRateWarmupSteps", 251, "from 0 to 250"),
    ],
)
def test_documented_ranges_are_enforced(model_id: str, name: str, value: str | int | float, allowed: str) -> None:
    with pytest.raises(HyperparameterValidationError, match=f"is out of range: allowed {allowed}"):
        validate_hyperparameters(find_base_model(model_id), {name: value})


@pytest.mark.parametrize("value", [True, "nan", "inf", "1_000", "", "0x10", "1e5000", float("nan")])
def test_values_that_are_not_plain_numbers_are_refused(value: Any) -> None:
    with pytest.raises(HyperparameterValidationError, match="learningRate: expected"):
        validate_hyperparameters(find_base_model(NOVA), {"learningRate": value})


def test_a_hyperparameter_the_model_does_not_have_is_unknown() -> None:
    # Nova documents three hyperparameters; batchSize is not one of them
    with pytest.raises(HyperparameterValidationError, match="unknown hyperparameter 'batchSize'"):
        validate_hyperparameters(find_base_model(NOVA), {"batchSize": 8})


# --------------------------------------------------------------------------------------------------------- split


def _split(fraction: float = 0.2, seed: int = 7) -> tuple[Split, MemorySink, MemorySink]:
    training, validation = MemorySink(), MemorySink()
    return (
        Split(validation_fraction=fraction, seed=seed, training=training, validation=validation),
        training,
        validation,
    )


def test_a_split_is_deterministic_and_near_its_fraction() -> None:
    # Given 4,000 records split 20% with seed 7, twice, and once with another seed
    lines = _lines(RecordFormat.PROMPT_COMPLETION, 4_000)
    first, first_training, first_validation = _split()
    again, again_training, again_validation = _split()
    other, _, other_validation = _split(seed=8)
    report = validate_lines(lines, _rules(TITAN), split=first)
    validate_lines(lines, _rules(TITAN), split=again)
    validate_lines(lines, _rules(TITAN), split=other)
    # Then both sides are committed, together hold every record once, in order, and the same seed gives the same split
    assert (first_training.state, first_validation.state) == ("committed", "committed")
    assert sorted(first_training.lines + first_validation.lines) == sorted(lines)
    assert first_training.lines == [line for line in lines if line not in set(first_validation.lines)]
    assert (first_training.lines, first_validation.lines) == (again_training.lines, again_validation.lines)
    assert other_validation.lines != first_validation.lines
    # And the validation side is within two points of 20%
    assert 720 <= len(first_validation.lines) <= 880
    assert report.split is not None
    assert report.split.written
    assert report.split.validation.records == len(first_validation.lines)
    assert report.split.training.bytes == sum(len(line) + 1 for line in first_training.lines)


def test_the_side_of_a_line_depends_only_on_its_number_and_the_seed() -> None:
    sides = [goes_to_validation(n, 42, 0.3) for n in range(1, 2001)]
    # Another seed draws another split, of the same size
    other = [goes_to_validation(n, 43, 0.3) for n in range(1, 2001)]
    assert other != sides
    assert 500 <= sum(other) <= 700
    assert 500 <= sum(sides) <= 700
    # A larger fraction only adds lines to the validation side
    assert all(goes_to_validation(n, 42, 0.5) for n in range(1, 2001) if sides[n - 1])


def test_an_invalid_dataset_aborts_the_split_at_its_first_bad_line() -> None:
    # Given a bad record on line 50 of 1,000
    lines = _lines(RecordFormat.PROMPT_COMPLETION, 1000)
    lines[49] = b"{"
    split, training, validation = _split()
    # When validated with a split
    report = validate_lines(lines, _rules(TITAN), split=split)
    # Then both sides were aborted there: nothing after line 49 was written, nothing committed
    assert (training.state, validation.state) == ("aborted", "aborted")
    assert len(training.lines) + len(validation.lines) == 49
    assert report.split is not None
    assert not report.split.written
    assert report.split.training.records + report.split.validation.records == 999


def test_a_split_that_breaks_a_limit_is_not_committed() -> None:
    # Given 40 valid Titan records split in half: about 20 training records, fewer than the 32 Titan needs
    split, training, validation = _split(fraction=0.5)
    report = validate_lines(_lines(RecordFormat.PROMPT_COMPLETION, 40), _rules(TITAN), split=split)
    assert report.invalid_lines == 0
    assert report.problems
    assert report.problems[0].startswith("the training side has ")
    assert (training.state, validation.state) == ("aborted", "aborted")


def test_an_error_while_streaming_aborts_the_split() -> None:
    def broken() -> Iterator[bytes]:
        yield from _lines(RecordFormat.PROMPT_COMPLETION, 10)
        raise ConnectionResetError("stream cut")

    split, training, validation = _split()
    with pytest.raises(ConnectionResetError):
        validate_lines(broken(), _rules(TITAN), split=split)
    assert (training.state, validation.state) == ("aborted", "aborted")


# ----------------------------------------------------------------------------------------------------- streaming


def test_lines_are_split_whole_across_chunk_boundaries() -> None:
    data = b'{"a": 1}\r\n\n{"b": 22}\n{"c": 333}'
    for size in (1, 2, 3, 5, 64):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        assert list(split_lines([b"", *chunks, b""], max_line_bytes=100)) == [
            b'{"a": 1}',
            b"",
            b'{"b": 22}',
            b'{"c": 333}',
        ]


def test_an_over_long_line_becomes_its_size_only() -> None:
    data = b"short\n" + b"x" * 1000 + b"\nafter\n" + b"y" * 11
    chunks = [data[i : i + 7] for i in range(0, len(data), 7)]
    assert list(split_lines(chunks, max_line_bytes=10)) == [b"short", OversizedLine(1000), b"after", OversizedLine(11)]


# ------------------------------------------------------------------------------------------------- hostile lines


@settings(deadline=None)
@given(lines=st.lists(st.binary(max_size=120) | st.sampled_from(_lines(RecordFormat.CLAUDE_MESSAGES, 3)), max_size=40))
def test_any_bytes_give_a_consistent_report_and_never_an_exception(lines: list[bytes]) -> None:
    lines = [line.replace(b"\n", b" ") for line in lines]
    report = validate_lines(lines, _rules(CLAUDE), max_reported=3)
    assert report.lines == len(lines)
    assert report.totals.records + report.blank_lines + report.invalid_lines == len(lines)
    assert len(report.first_invalid_lines) == min(3, report.invalid_lines)
