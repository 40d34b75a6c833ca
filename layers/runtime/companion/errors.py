"""Named errors.

Step Functions matches Retry and Catch rules on the exception class name that the Python runtime reports as
``errorType``, so every class name here is part of the public contract of the state machines: rename with care.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


class CompanionError(Exception):
    """Base class of every error this project raises on purpose."""


class InputValidationError(CompanionError):
    """A task's input does not match its model (missing field, wrong type, value out of range)."""


class UnknownModelFamilyError(CompanionError):
    """The model id does not name a family the codec knows, and no explicit family was given."""


class RequestEncodingError(CompanionError):
    """A provider-neutral request breaks a rule of the target model family (role order, unsupported parameter...)."""


class ResponseDecodingError(CompanionError):
    """A Bedrock response (or what a ResultSelector kept of it) cannot be read as the expected family's format."""


class TemplateSyntaxError(CompanionError):
    """A prompt template contains a placeholder that is not a plain variable path."""


class MissingTemplateVariablesError(CompanionError):
    """A prompt template refers to variables the step was not given; the message lists every missing name."""

    def __init__(self, missing: list[str], where: str) -> None:
        self.missing = missing
        super().__init__(f"{where}: missing template variable(s): {', '.join(missing)}")


class S3LocationError(CompanionError):
    """An S3 URI is malformed or points outside the bucket this function may use."""


class OffloadedObjectNotFoundError(CompanionError):
    """No object exists at the S3 location a step said it offloaded to."""


class ModelOutputInvalidError(CompanionError):
    """Base of the errors a validate-and-re-prompt loop catches: the message is written for the model to act on."""


class ModelOutputNotJsonError(ModelOutputInvalidError):
    """The model was asked for JSON and its answer contains none that parses."""


class ModelOutputSchemaError(ModelOutputInvalidError):
    """The model's JSON answer does not match the JSON Schema the step gave."""


class ModelOutputTruncatedError(CompanionError):
    """The model stopped at its token limit and the step asked to fail rather than accept a truncated answer."""


class SchemaDefinitionError(CompanionError):
    """The JSON Schema a step gave is itself invalid, so no answer could be validated against it."""


class ConfigurationError(CompanionError):
    """The function's environment is missing or has an invalid setting (a deployment problem, not bad input)."""


class PromptTooLargeError(CompanionError):
    """A rendered prompt grew past the size a step may produce."""


class S3AccessDeniedError(CompanionError):
    """S3 refused to read or write an object (AccessDenied): a key outside the function's IAM grant, or a policy."""


class PayloadTooLargeError(CompanionError):
    """An object is larger than this function will read into memory."""


class ChainDefinitionError(CompanionError):
    """A prompt-chain definition is malformed or inconsistent; the message lists every problem with its location."""

    def __init__(self, problems: Sequence[str | tuple[str, str]], *, chain: str | None = None) -> None:
        # A problem is text, or (field path, message) from code that knows the place; tools use ``located`` to point
        # at it in a file, everyone else reads ``problems``.
        self.located = [problem if isinstance(problem, tuple) else ("", problem) for problem in problems]
        self.problems = [
            f"{problem[0] or '(root)'}: {problem[1]}" if isinstance(problem, tuple) else problem for problem in problems
        ]
        subject = f"chain {chain!r}" if chain else "chain definition"
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        super().__init__(f"{subject}: {count}: " + "; ".join(self.problems))


class UnknownChainError(CompanionError):
    """A request names a chain that is not packaged with the runtime layer."""


class ExecutionNotFoundError(CompanionError):
    """No prompt-chain execution has the requested id."""


class ExecutionAlreadyExistsError(CompanionError):
    """An execution with this name exists already (Step Functions' ``ExecutionAlreadyExists``)."""


class IdempotencyConflictError(CompanionError):
    """An Idempotency-Key was reused with a different request body."""


class PromptSetNotFoundError(CompanionError):
    """A scheduled batch names a prompt set that does not exist in the payload bucket."""


class PromptSetInvalidError(CompanionError):
    """A prompt set has lines that are not JSON objects; the message lists the first ones with their line numbers."""


class UnsupportedBaseModelError(CompanionError):
    """A fine-tuning request names a base model, or a customization type of it, that no dataset rule is known for."""


class HyperparameterValidationError(CompanionError):
    """Fine-tuning hyperparameters Bedrock would refuse; the message lists every problem."""

    def __init__(self, problems: list[str], *, model: str) -> None:
        self.problems = problems
        count = f"{len(problems)} problem" + ("s" if len(problems) != 1 else "")
        super().__init__(f"hyperparameters for {model}: {count}: " + "; ".join(problems))


class DatasetValidationError(CompanionError):
    """A fine-tuning dataset would fail the customization job; the message names the report with every finding.

    Raised only after the report is written, so ``report_uri`` always points at an object that exists.
    """

    def __init__(self, findings: list[str], *, report_uri: str, invalid_lines: int) -> None:
        self.findings = findings
        self.report_uri = report_uri
        self.invalid_lines = invalid_lines
        super().__init__(f"dataset unusable: {'; '.join(findings)}; full report: {report_uri}")
