"""The dataset record formats as Pydantic models, and the one-line reasons a record is refused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from companion import safejson
from companion.codec._text import quote
from companion.finetune.catalog import RecordFormat

_MAX_KEY_IN_MESSAGE = 40


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("is empty or only whitespace")
    return value


NonBlankText = Annotated[StrictStr, AfterValidator(_not_blank)]
Role = Literal["user", "assistant"]


class _Record(BaseModel):
    # Strict: a number where text belongs is a broken record, not something to convert.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def characters(self) -> int:
        """Characters of text the model trains on (keys and JSON syntax excluded)."""
        raise NotImplementedError


class PromptCompletionRecord(_Record):
    prompt: NonBlankText
    completion: NonBlankText

    def characters(self) -> int:
        return len(self.prompt) + len(self.completion)


class PreTrainingRecord(_Record):
    input: NonBlankText

    def characters(self) -> int:
        return len(self.input)


def _check_turn_order(roles: Sequence[str]) -> None:
    if roles[0] != "user":
        raise ValueError("messages[0].role: the first message must come from the user")
    for index in range(1, len(roles)):
        if roles[index] == roles[index - 1]:
            raise ValueError(f"messages[{index}].role: two {roles[index]} messages in a row; roles must alternate")
    if roles[-1] != "assistant":
        raise ValueError(f"messages[{len(roles) - 1}].role: the last message must come from the assistant")


class ClaudeTurn(_Record):
    role: Role
    content: NonBlankText


class ClaudeMessagesRecord(_Record):
    # Optional, but a string when present: null is not one.
    system: StrictStr = ""
    messages: Annotated[list[ClaudeTurn], Field(min_length=2)]

    @model_validator(mode="after")
    def _alternate(self) -> ClaudeMessagesRecord:
        _check_turn_order([turn.role for turn in self.messages])
        return self

    def characters(self) -> int:
        return len(self.system) + sum(len(turn.content) for turn in self.messages)


class TextBlock(_Record):
    text: NonBlankText


class ConversationTurn(_Record):
    role: Role
    content: Annotated[list[TextBlock], Field(min_length=1)]


class ConversationRecord(_Record):
    schema_version: Literal["bedrock-conversation-2024"] = Field(alias="schemaVersion")
    system: list[TextBlock] = []
    messages: Annotated[list[ConversationTurn], Field(min_length=2)]

    @model_validator(mode="after")
    def _alternate_without_reserved_words(self, info: ValidationInfo) -> ConversationRecord:
        _check_turn_order([turn.role for turn in self.messages])
        reserved: Sequence[str] = (info.context or {}).get("reserved_words", ())
        if reserved:
            prompts = [(f"system[{i}].text", block.text) for i, block in enumerate(self.system)]
            prompts += [
                (f"messages[{i}].content[{j}].text", block.text)
                for i, turn in enumerate(self.messages)
                if turn.role == "user"
                for j, block in enumerate(turn.content)
            ]
            for where, text in prompts:
                found = next((word for word in reserved if word in text), None)
                if found is not None:
                    raise ValueError(f"{where}: contains {found!r}, a reserved word that makes the training job fail")
        return self

    def characters(self) -> int:
        system = sum(len(block.text) for block in self.system)
        return system + sum(len(block.text) for turn in self.messages for block in turn.content)


RECORD_MODELS: dict[RecordFormat, type[_Record]] = {
    RecordFormat.PROMPT_COMPLETION: PromptCompletionRecord,
    RecordFormat.CONVERSATION: ConversationRecord,
    RecordFormat.CLAUDE_MESSAGES: ClaudeMessagesRecord,
    RecordFormat.PRE_TRAINING: PreTrainingRecord,
}


def parse_record(text: str, record_format: RecordFormat, reserved_words: Sequence[str] = ()) -> _Record:
    """Parse one JSONL line as a record of ``record_format``.

    Raises
    ------
    pydantic.ValidationError
        Not JSON, not an object, or not the format; :func:`describe_problem` turns it into a one-line reason.
    """
    return RECORD_MODELS[record_format].model_validate_json(text, context={"reserved_words": reserved_words})


def describe_problem(exc: ValidationError, text: str, record_format: RecordFormat) -> str:
    """One line saying what is wrong with a record and where inside it, never quoting its text (user data)."""
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    where = _path(first["loc"])
    kind = first["type"]
    if kind == "json_invalid":
        reason = f"not valid JSON ({first['ctx']['error']})"
    elif kind in {"model_type", "model_attributes_type"} and not where:
        reason = "not a JSON object"
    elif kind in {"missing", "extra_forbidden"}:
        reason = f"{where}: {'missing' if kind == 'missing' else 'unexpected key'}"
        if len(first["loc"]) == 1:
            reason += f" (a record has the keys {_keys(RECORD_MODELS[record_format])})"
    elif kind == "value_error":
        message = str(first["ctx"]["error"])
        reason = f"{where}: {message}" if where else message
    else:
        reason = f"{where}: {first['msg']}" if where else first["msg"]
    if len(errors) > 1:
        reason += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    guess = _guess_format(text) if kind != "json_invalid" else None
    if guess is not None and guess is not record_format:
        return f"looks like a {guess} record; this base model takes {record_format} records ({reason})"
    return reason


def _path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            name = part if len(part) <= _MAX_KEY_IN_MESSAGE else quote(part, _MAX_KEY_IN_MESSAGE)
            parts.append(f".{name}" if parts else name)
    return "".join(parts)


def _keys(model: type[_Record]) -> str:
    names = [field.alias or name for name, field in model.model_fields.items()]
    return ", ".join(names)


def _guess_format(text: str) -> RecordFormat | None:
    # Only for reported lines: a second parse is cheap next to what the hint saves (the wrong format is the most
    # common reason a whole dataset fails).
    try:
        record: Any = safejson.loads(text)
    except ValueError:
        return None
    if not isinstance(record, dict):
        return None
    if "schemaVersion" in record:
        return RecordFormat.CONVERSATION
    if "prompt" in record and "completion" in record:
        return RecordFormat.PROMPT_COMPLETION
    if set(record) == {"input"}:
        return RecordFormat.PRE_TRAINING
    messages = record.get("messages")
    if isinstance(messages, list) and messages and isinstance(messages[0], dict):
        listed = isinstance(messages[0].get("content"), list)
        return RecordFormat.CONVERSATION if listed else RecordFormat.CLAUDE_MESSAGES
    return None
