"""Read a SAM template (source or ``sam build`` output) into what the offline runner needs to execute it.

The template is resolved the way CloudFormation would resolve it in one offline account and region: parameters
(defaults and overrides), conditions, ``Ref``/``Fn::GetAtt``/``Fn::Sub``/``Fn::Join``/``Fn::If``/``Fn::FindInMap``
and friends, in their short (``!Ref``) and long (``Fn::GetAtt``) forms. Only what the runner uses is resolved:
function code, handler, runtime, layers, environment, timeout and memory; state machine names, definitions and
events; bucket names. Anything else in the template (IAM, log groups, outputs) is left alone, so an intrinsic this
module does not know only matters when the runner needs its value. The intrinsic functions are SAM CLI's
(``samcli.lib.intrinsic_resolver``, what ``sam local`` uses) and ``Globals`` merge as samtranslator's transform
merges them; the runner keeps its own code only where they differ from CloudFormation (see
:func:`_sam_cli_resolver`), and parameter checks (``AllowedValues``, ``Number``...), which SAM CLI does not make.

Physical names are deterministic: the stack is called ``offline``; a function is named by its ``FunctionName`` or
else its logical id (as ``sam local invoke`` names it), a state machine by ``Name``/``StateMachineName`` or its
logical id, a bucket by ``BucketName`` or ``offline-<logicalid>`` in lower case.
"""

from __future__ import annotations

import base64
import json
import re
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Final, Literal

import yaml

ACCOUNT: Final[str] = "123456789012"
REGION: Final[str] = "us-east-1"
PARTITION: Final[str] = "aws"
STACK_NAME: Final[str] = "offline"

# Lambda's own defaults when a template sets neither the property nor a Global.
DEFAULT_TIMEOUT_SECONDS: Final[float] = 3.0
DEFAULT_MEMORY_MB: Final[int] = 128

FUNCTION_TYPES: Final = frozenset({"AWS::Serverless::Function", "AWS::Lambda::Function"})
STATE_MACHINE_TYPES: Final = frozenset({"AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"})
LAYER_TYPES: Final = frozenset({"AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"})
BUCKET_TYPE: Final = "AWS::S3::Bucket"
TOPIC_TYPE: Final = "AWS::SNS::Topic"
QUEUE_TYPE: Final = "AWS::SQS::Queue"
SECRET_TYPE: Final = "AWS::SecretsManager::Secret"  # noqa: S105  (a resource type, not a secret)
# The resources that exist in the emulated account from their properties (sfn_offline.resources creates them).
EMULATED_RESOURCE_TYPES: Final = frozenset(
    {
        BUCKET_TYPE,
        TOPIC_TYPE,
        QUEUE_TYPE,
        "AWS::DynamoDB::Table",
        "AWS::Serverless::SimpleTable",
        "AWS::Events::EventBus",
        "AWS::SSM::Parameter",
        SECRET_TYPE,
    }
)

_PLACEHOLDER: Final = re.compile(r"\$\{([^}]*)\}")
_SUB_VARIABLE: Final = re.compile(r"\$\{(!?)([^}]*)\}")


class TemplateError(Exception):
    """A template that cannot run offline. The message starts with ``<file>: <place>: ``."""


class DefinitionError(TemplateError):
    """A state machine definition that cannot run: unresolved placeholder, dangling transition, missing field.

    ``problems`` lists every problem found, each ``<place>: <message>``; the message shows them one a line.
    """

    def __init__(self, where: str, problems: list[str]) -> None:
        self.where = where
        self.problems = problems
        super().__init__("\n".join(f"{where}: {problem}" for problem in problems))


class DefinitionWarning(UserWarning):
    """Something AWS accepts but is almost certainly a mistake, such as a state no transition reaches."""


# ---------------------------------------------------------------- YAML


# libyaml's parser when PyYAML was built with it (several times faster on a large template), else PyYAML's own.
_SAFE_LOADER: Final[type] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CloudFormationLoader(_SAFE_LOADER):  # type: ignore[misc]
    """Safe YAML loader for CloudFormation: ``!Ref X`` -> ``{"Ref": "X"}``, ``!Fn X`` -> ``{"Fn::Fn": X}``.

    ``!GetAtt A.B.C`` becomes ``["A", "B.C"]`` (the attribute may contain dots), and dates stay strings
    (CloudFormation has no timestamp type: ``2010-09-09`` unquoted is the string, not a date). cfn-lint's loader does
    the same but importing it costs seconds (it pulls in sympy and networkx).
    """

    yaml_implicit_resolvers: ClassVar[dict[str, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }


def _construct_short_form(
    loader: yaml.SafeLoader, tag_suffix: str, node: yaml.ScalarNode | yaml.SequenceNode | yaml.MappingNode
) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix in {"Ref", "Condition"}:
        return {tag_suffix: value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_short_form)


def load_yaml(text: str) -> Any:
    """Parse CloudFormation YAML (or JSON, which is YAML) with :class:`CloudFormationLoader`."""
    return yaml.load(text, Loader=CloudFormationLoader)  # noqa: S506  (a safe loader subclass)


# ---------------------------------------------------------------- public model


@dataclass(frozen=True)
class FunctionSpec:
    """A function as the runner calls it: where its code is, how to import it, and its configuration."""

    logical_id: str
    name: str
    arn: str
    code_uri: Path
    handler: str
    runtime: str
    layers: tuple[Path, ...]
    environment: Mapping[str, str]
    timeout: float
    memory_mb: int
    # Why the function cannot run in-process (an image, inline code, another runtime), or None. It fails only when
    # it is called: a template whose other functions run, or whose task for it is mocked, still runs.
    unavailable: str | None = None


@dataclass(frozen=True)
class ApiRoute:
    """One ``Api`` or ``HttpApi`` event: ``method`` (upper case, ``ANY`` for any) and ``path`` reach ``target``."""

    method: str
    path: str
    target: str
    target_kind: Literal["function", "state_machine"]
    event_name: str
    event_type: str
    # The Lambda event's payload format: REST APIs send 1.0; an HttpApi sends 2.0 unless PayloadFormatVersion says 1.0.
    payload_format: str = "1.0"


_EVENT_TYPES_WITH_TARGET_INPUT: Final = frozenset({"Schedule", "ScheduleV2", "EventBridgeRule", "CloudWatchEvent"})


@dataclass(frozen=True)
class StateMachineSpec:
    """A state machine with its definition resolved and validated, and its event sources."""

    logical_id: str
    name: str
    arn: str
    type: str
    definition: dict[str, Any]
    definition_path: Path | None
    events: Mapping[str, dict[str, Any]]
    template_path: Path = field(default=Path("template.yaml"), compare=False, repr=False)

    def input_from_event(self, event_name: str | None, event: dict[str, Any]) -> Any:
        """What an execution started by the event source ``event_name`` receives as its input.

        Parameters
        ----------
        event_name
            A key of ``Events``; ``None`` picks the only event.
        event
            What the source delivers: an API Gateway proxy event for ``Api`` (a dict without ``httpMethod`` and
            ``requestContext`` is taken as the request body itself), an EventBridge event for ``Schedule``,
            ``ScheduleV2``, ``EventBridgeRule`` and ``CloudWatchEvent``.

        Returns
        -------
        Any
            ``Api``: the JSON request body (SAM's default request template passes ``$input.json('$')``; an empty
            body is ``{}``). Rule and schedule targets: the target's ``Input`` (a JSON string) when set, else its
            ``InputPath`` applied to the event, else its ``InputTransformer`` applied, else the event itself.

        Raises
        ------
        TemplateError
            Unknown or ambiguous event name, an event type that cannot start an execution offline, a body or
            ``Input`` that is not JSON.
        """
        where = f"{_display(self.template_path)}: Resources.{self.logical_id}.Properties.Events"
        if event_name is None:
            if len(self.events) != 1:
                choices = ", ".join(sorted(self.events)) or "none"
                raise TemplateError(f"{where}: name the event source (choices: {choices})")
            event_name = next(iter(self.events))
        if event_name not in self.events:
            choices = ", ".join(sorted(self.events)) or "none"
            raise TemplateError(f"{where}: no event {event_name!r} (choices: {choices})")
        source = self.events[event_name]
        kind = source.get("Type")
        properties = source.get("Properties") or {}
        where = f"{where}.{event_name}"
        if kind == "Api":
            return _api_body(event, where)
        if kind in _EVENT_TYPES_WITH_TARGET_INPUT:
            return _target_input(properties, event, where)
        raise TemplateError(f"{where}: event type {kind!r} cannot start an execution offline")


@dataclass(frozen=True)
class Template:
    """Everything the offline runner reads from one template."""

    path: Path
    parameters: Mapping[str, str]
    functions: Mapping[str, FunctionSpec]
    state_machines: Mapping[str, StateMachineSpec]
    buckets: Mapping[str, str]
    apis: list[ApiRoute]
    topics: Mapping[str, str] = field(default_factory=dict)
    """Logical id -> name of each SNS topic (created empty offline, so a state machine can publish to it)."""
    resources: Mapping[str, ResourceSpec] = field(default_factory=dict)
    """Logical id -> every resource of :data:`EMULATED_RESOURCE_TYPES`, buckets and topics included."""


@dataclass(frozen=True)
class ResourceSpec:
    """A resource the emulated account holds: its type, physical name and the properties that resolved offline.

    A property whose intrinsic cannot be resolved offline (a KMS key's ARN...) is left out: creating the resource
    never needs it.
    """

    logical_id: str
    type: str
    name: str
    properties: Mapping[str, Any]


# ---------------------------------------------------------------- event inputs


def _api_body(event: dict[str, Any], where: str) -> Any:
    if "httpMethod" not in event and "requestContext" not in event:
        return event
    body = event.get("body")
    if body is None or body == "":
        return {}
    if isinstance(body, (dict, list)):
        return body
    text = base64.b64decode(body).decode("utf-8") if event.get("isBase64Encoded") else str(body)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{where}: the request body is not JSON ({exc})") from exc


def _target_input(properties: Mapping[str, Any], event: dict[str, Any], where: str) -> Any:
    target = properties.get("Target") if isinstance(properties.get("Target"), dict) else {}
    given = properties.get("Input", (target or {}).get("Input"))
    if given is not None:
        if not isinstance(given, str):
            return given
        try:
            return json.loads(given)
        except json.JSONDecodeError as exc:
            raise TemplateError(f"{where}.Properties.Input: not JSON ({exc})") from exc
    input_path = properties.get("InputPath")
    if input_path:
        return _json_path(event, str(input_path), f"{where}.Properties.InputPath")
    transformer = properties.get("InputTransformer")
    if isinstance(transformer, dict):
        return _input_transformer(transformer, event, f"{where}.Properties.InputTransformer")
    return event


def _json_path(document: Any, path: str, where: str) -> Any:
    """A definite JSONPath (``$``, ``$.a.b``, ``$.a[0]``, ``$['a b']``), as EventBridge's InputPath takes."""
    if not path.startswith("$"):
        raise TemplateError(f"{where}: {path!r} is not a JSONPath")
    value = document
    for name, quoted, index in re.findall(r"\.([^.\[]+)|\['([^']*)'\]|\[(\d+)\]", path[1:]):
        try:
            value = value[int(index)] if index else value[name or quoted]
        except (KeyError, IndexError, TypeError) as exc:
            raise TemplateError(f"{where}: {path!r} selects nothing in the event") from exc
    return value


def _input_transformer(transformer: Mapping[str, Any], event: dict[str, Any], where: str) -> Any:
    values = {
        name: _json_path(event, str(path), f"{where}.InputPathsMap.{name}")
        for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    template = str(transformer.get("InputTemplate", ""))

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        value = values[name]
        return json.dumps(value) if not isinstance(value, str) else value

    # EventBridge writes a string value quoted only when the template quotes it ("<name>"), so plain text works.
    text = re.sub(r"<([A-Za-z0-9_.-]+)>", fill, template)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


# ---------------------------------------------------------------- resolution


class _NoValue:
    """``AWS::NoValue``: the property or list item is removed."""


_NO_VALUE: Final = _NoValue()


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class _Resolver:
    """Evaluates CloudFormation intrinsic functions against one template, its parameters and the offline account."""

    def __init__(self, path: Path, document: dict[str, Any], parameters: Mapping[str, Any]) -> None:
        self.path = path
        self.file = _display(path)
        self.document = document
        self.resources: dict[str, Any] = document.get("Resources") or {}
        self.parameters = parameters
        self.condition_specs: dict[str, Any] = document.get("Conditions") or {}
        self._conditions: dict[str, bool] = {}
        self._naming: set[str] = set()
        self._sam: Any = None
        self._symbols: Any = None
        self.place = "Resources"
        self.pseudo: dict[str, Any] = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": STACK_NAME,
            "AWS::StackId": f"arn:{PARTITION}:cloudformation:{REGION}:{ACCOUNT}:stack/{STACK_NAME}/offline",
            "AWS::Partition": PARTITION,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": [],
        }

    def error(self, place: str, message: str) -> TemplateError:
        return TemplateError(f"{self.file}: {place}: {message}")

    # -------------------------------------------------------- conditions

    def condition(self, name: str, place: str) -> bool:
        if name not in self._conditions:
            if name not in self.condition_specs:
                raise self.error(place, f"no condition {name!r} in Conditions")
            self._conditions[name] = False  # a cycle evaluates to False instead of recursing forever
            spec = self.condition_specs[name]
            where = f"Conditions.{name}"
            if isinstance(spec, dict) and set(spec) == {"Condition"}:
                value: Any = self.condition(str(spec["Condition"]), where)
            else:
                value = self.resolve(spec, where)
            if not isinstance(value, bool):
                raise self.error(where, f"not a condition: {spec!r}")
            self._conditions[name] = value
        return self._conditions[name]

    def resource_exists(self, logical_id: str) -> bool:
        resource = self.resources.get(logical_id)
        if not isinstance(resource, dict):
            return False
        condition = resource.get("Condition")
        return condition is None or self.condition(str(condition), f"Resources.{logical_id}.Condition")

    # -------------------------------------------------------- values

    def resolve(self, value: Any, place: str) -> Any:
        """``value`` with every intrinsic function evaluated; ``_NO_VALUE`` for ``AWS::NoValue``.

        Maps and lists are walked here, so an error names the property path down to the intrinsic; each intrinsic
        is evaluated by SAM CLI's ``IntrinsicResolver`` (what ``sam local`` uses), with the runner's symbol table
        for ``Ref``/``Fn::GetAtt`` and the runner's own ``Fn::Sub``, ``Fn::If``, ``Fn::Equals`` and ``Fn::Select`` (see
        :func:`_sam_cli_resolver` for why).
        """
        if isinstance(value, list):
            items = [self.resolve(item, f"{place}[{i}]") for i, item in enumerate(value)]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and next(iter(value)) in _INTRINSICS:
            return self._intrinsic(value, f"{place}.{next(iter(value))}")
        resolved = {k: self.resolve(v, f"{place}.{k}") for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}

    def _intrinsic(self, value: dict[str, Any], place: str) -> Any:
        if self._sam is None:
            self._sam, self._symbols = _sam_cli_resolver(self)
        outer, self.place = self.place, place
        try:
            return _without_no_value(self._sam.intrinsic_property_resolver(value, False, parent_function=place))
        except TemplateError:
            raise
        except RecursionError as exc:
            raise self.error(place, "the value refers to itself") from exc
        except Exception as exc:
            # SAM CLI's InvalidIntrinsicException and InvalidSymbolException, and what its type checks let through.
            raise self.error(place, " ".join(str(exc).split())) from exc
        finally:
            self.place = outer

    def if_(self, args: Any, place: str) -> Any:
        """``Fn::If``: only the chosen branch is evaluated, as CloudFormation does."""
        if not isinstance(args, list) or len(args) != 3:
            raise self.error(place, f"expected [Condition, ValueIfTrue, ValueIfFalse], got {args!r}")
        name, when_true, when_false = args
        return self.resolve(when_true if self.condition(str(name), place) else when_false, place)

    def equals(self, args: Any, place: str) -> bool:
        """``Fn::Equals``: CloudFormation compares the two values as strings (a Number parameter equals ``3``)."""
        if not isinstance(args, list) or len(args) != 2:
            raise self.error(place, f"expected [Value1, Value2], got {args!r}")
        left, right = (self.resolve(arg, place) for arg in args)
        return _as_text(left) == _as_text(right)

    def select(self, args: Any, place: str) -> Any:
        """``Fn::Select``: the index may be text (``!Select ["1", [...]]``, as AWS's own examples write it)."""
        resolved = self.resolve(args, place)
        if not isinstance(resolved, list) or len(resolved) != 2 or not isinstance(resolved[1], list):
            raise self.error(place, f"expected [Index, [Value, ...]], got {resolved!r}")
        index, items = resolved
        if isinstance(index, bool) or not str(index).strip().isdigit() or int(index) >= len(items):
            raise self.error(place, f"index {index!r} is not one of the {len(items)} values")
        return items[int(index)]

    def sub(self, args: Any, place: str) -> str:
        if isinstance(args, list):
            text, variables = args[0], self.resolve(args[1] if len(args) > 1 else {}, place)
        else:
            text, variables = args, {}
        text = self.resolve(text, place)
        if not isinstance(text, str):
            raise self.error(place, f"expected a string, got {text!r}")

        def replace(match: re.Match[str]) -> str:
            literal, name = match.group(1), match.group(2).strip()
            if literal:
                return "${" + match.group(2) + "}"
            if name in variables:
                return _as_text(variables[name])
            if "." in name and name.split(".", 1)[0] in self.resources and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return _as_text(self.get_att(logical_id, attribute, place))
            return _as_text(self.ref(name, place))

        return _SUB_VARIABLE.sub(replace, text)

    def ref(self, name: str, place: str) -> Any:
        """``Ref``: a parameter or pseudo-parameter (SAM CLI's symbol table), else a resource of the template."""
        if self._sam is None:
            self._sam, self._symbols = _sam_cli_resolver(self)
        outer, self.place = self.place, place
        try:
            return self._symbols.resolve_symbols(name, "Ref")
        finally:
            self.place = outer

    def resource_ref(self, name: str, place: str) -> Any:
        """``Ref`` to a resource: the physical name or ARN the runner gives it offline."""
        resource_type = self._type_of(name, place)
        if resource_type in FUNCTION_TYPES:
            return self.function_name(name)
        if resource_type in STATE_MACHINE_TYPES:
            return self.state_machine_arn(name)
        if resource_type == BUCKET_TYPE:
            return self.bucket_name(name)
        if resource_type in LAYER_TYPES:
            return self.layer_arn(name)
        if resource_type in _REF_FORMATS:
            return _REF_FORMATS[resource_type](self.physical_name(name))
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str, place: str) -> Any:
        resource_type = self._type_of(logical_id, place)
        if resource_type in FUNCTION_TYPES and attribute == "Arn":
            return self.function_arn(logical_id)
        if resource_type in STATE_MACHINE_TYPES and attribute in {"Arn", "Name"}:
            return self.state_machine_arn(logical_id) if attribute == "Arn" else self.state_machine_name(logical_id)
        if resource_type == BUCKET_TYPE:
            name = self.bucket_name(logical_id)
            attributes = {
                "Arn": f"arn:{PARTITION}:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{REGION}.amazonaws.com",
                "WebsiteURL": f"http://{name}.s3-website-{REGION}.amazonaws.com",
            }
            if attribute in attributes:
                return attributes[attribute]
        if resource_type in _ARN_FORMATS and attribute in {"Arn", "Id"}:
            return _ARN_FORMATS[resource_type](self.physical_name(logical_id))
        if resource_type == QUEUE_TYPE and attribute == "QueueUrl":
            return _REF_FORMATS[QUEUE_TYPE](self.physical_name(logical_id))
        if attribute in {"Name", "RoleId", "LogGroupName", "QueueName", "TopicName"}:
            return self.physical_name(logical_id)
        raise self.error(place, f"cannot resolve {logical_id}.{attribute} ({resource_type}) offline")

    def _type_of(self, logical_id: str, place: str) -> str:
        if self.resource_exists(logical_id):
            return str(self.resources[logical_id].get("Type", ""))
        # Roles SAM generates for functions and state machines that do not name one.
        if logical_id.endswith("Role") and self.resource_exists(logical_id[: -len("Role")]):
            return "AWS::IAM::Role"
        if logical_id in self.resources:
            raise self.error(place, f"{logical_id} is not created (its Condition is false)")
        raise self.error(place, f"no parameter or resource named {logical_id!r}")

    # -------------------------------------------------------- physical names

    def _named(self, logical_id: str, keys: tuple[str, ...], default: str) -> str:
        """The resource's own name property when it has one, else ``default``."""
        if logical_id in self._naming:
            raise self.error(f"Resources.{logical_id}", "its name depends on itself")
        properties = (self.resources.get(logical_id) or {}).get("Properties") or {}
        self._naming.add(logical_id)
        try:
            for key in keys:
                if key in properties:
                    value = self.resolve(properties[key], f"Resources.{logical_id}.Properties.{key}")
                    if value is not _NO_VALUE:
                        return _as_text(value)
        finally:
            self._naming.discard(logical_id)
        return default

    def physical_name(self, logical_id: str) -> str:
        keys = ("RoleName", "LogGroupName", "QueueName", "TopicName", "TableName", "Name")
        default = f"{STACK_NAME}-{logical_id}"
        properties = (self.resources.get(logical_id) or {}).get("Properties") or {}
        # CloudFormation names a FIFO queue or topic it names itself with the .fifo suffix the service requires.
        if any(self.resolve(properties.get(key), logical_id) in {True, "true"} for key in ("FifoQueue", "FifoTopic")):
            default += ".fifo"
        return self._named(logical_id, keys, default)

    def function_name(self, logical_id: str) -> str:
        return self._named(logical_id, ("FunctionName",), logical_id)

    def function_arn(self, logical_id: str) -> str:
        return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:{self.function_name(logical_id)}"

    def state_machine_name(self, logical_id: str) -> str:
        return self._named(logical_id, ("Name", "StateMachineName"), logical_id)

    def state_machine_arn(self, logical_id: str) -> str:
        return f"arn:{PARTITION}:states:{REGION}:{ACCOUNT}:stateMachine:{self.state_machine_name(logical_id)}"

    def bucket_name(self, logical_id: str) -> str:
        return self._named(logical_id, ("BucketName",), f"{STACK_NAME}-{logical_id}".lower()[:63])

    def layer_arn(self, logical_id: str) -> str:
        name = self._named(logical_id, ("LayerName",), logical_id)
        return f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:layer:{name}:1"


# The intrinsic functions SAM CLI's IntrinsicResolver evaluates (its function maps' keys, named here so a value
# without any never imports SAM CLI).
_INTRINSICS: Final = frozenset(
    {"Ref", "Fn::GetAtt", "Fn::Sub", "Fn::Join", "Fn::Split", "Fn::Select", "Fn::Base64", "Fn::FindInMap"}
    | {"Fn::Transform", "Fn::GetAZs", "Fn::ImportValue", "Fn::If", "Fn::Equals", "Fn::And", "Fn::Or", "Fn::Not"}
)


def _sam_cli_resolver(runner: _Resolver) -> tuple[Any, Any]:
    """SAM CLI's ``IntrinsicResolver`` over the template, with the runner's symbols and four functions of its own;
    the resolver and its symbol table.

    SAM CLI evaluates ``Fn::Join``, ``Fn::Split``, ``Fn::Base64``, ``Fn::FindInMap``,
    ``Fn::GetAZs``, ``Fn::And``, ``Fn::Or``, ``Fn::Not`` and ``Ref`` to parameters and pseudo-parameters. The
    runner keeps (each with a test in ``test_template_intrinsics.py`` showing SAM CLI's different answer):

    - ``Ref``/``Fn::GetAtt`` to resources: the physical names and ARNs of the resources the runner emulates (SAM
      CLI's table answers the logical id, or a Lambda ARN for any ``Arn``), ``AWS::NoValue`` removing the property
      (SAM CLI leaves ``None``), and a resource whose Condition is false not existing;
    - ``Fn::Sub``: SAM CLI's leaves ``${!Literal}`` as is and matches only alphanumeric names;
    - ``Fn::If``: SAM CLI's evaluates both branches, so the untaken one may fail on a resource that does not exist;
    - ``Fn::Equals``: SAM CLI's compares Python values, so a parameter ``"3"`` does not equal ``3``;
    - ``Fn::Select``: SAM CLI's refuses a text index, as in AWS's own example ``!Select ["1", [...]]`` (and any
      ``Ref`` to a Number parameter, which is text).
    """
    from samcli.lib.intrinsic_resolver.intrinsic_property_resolver import (  # type: ignore[import-untyped]  # noqa: PLC0415
        IntrinsicResolver,
    )
    from samcli.lib.intrinsic_resolver.intrinsics_symbol_table import (  # type: ignore[import-untyped]  # noqa: PLC0415
        IntrinsicsSymbolTable,
    )

    class RunnerSymbols(IntrinsicsSymbolTable):  # type: ignore[misc]  # SAM CLI ships no types
        def resolve_symbols(self, logical_id: str, resource_attribute: str, ignore_errors: bool = False) -> Any:
            if logical_id == "AWS::NoValue":
                return _NO_VALUE
            if logical_id in self.logical_id_translator:
                return super().resolve_symbols(logical_id, resource_attribute, ignore_errors)
            if resource_attribute == IntrinsicResolver.REF:
                return runner.resource_ref(logical_id, runner.place)
            return runner.get_att(logical_id, resource_attribute, runner.place)

    symbols = RunnerSymbols(template=runner.document, logical_id_translator={**runner.pseudo, **runner.parameters})
    resolver = IntrinsicResolver(template=runner.document, symbol_resolver=symbols)
    functions = resolver.default_intrinsic_function_map()
    functions[IntrinsicResolver.FN_SUB] = lambda args, _: runner.sub(args, runner.place)
    functions[IntrinsicResolver.FN_SELECT] = lambda args, _: runner.select(args, runner.place)
    resolver.set_intrinsic_key_function_map(functions)
    conditionals = resolver.default_conditional_key_map()
    conditionals[IntrinsicResolver.FN_IF] = lambda args, _: runner.if_(args, runner.place)
    conditionals[IntrinsicResolver.FN_EQUALS] = lambda args, _: runner.equals(args, runner.place)
    resolver.set_conditional_function_map(conditionals)
    return resolver, symbols


def _without_no_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_without_no_value(item) for item in value if item is not _NO_VALUE]
    if isinstance(value, dict):
        return {key: _without_no_value(item) for key, item in value.items() if item is not _NO_VALUE}
    return value


_REF_FORMATS: Final[dict[str, Callable[[str], str]]] = {
    "AWS::SQS::Queue": lambda name: f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}",
    "AWS::SNS::Topic": lambda name: f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{name}",
    # AWS appends six random characters to a secret's ARN; Secrets Manager also accepts it without them.
    SECRET_TYPE: lambda name: f"arn:{PARTITION}:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}",
}
_ARN_FORMATS: Final[dict[str, Callable[[str], str]]] = {
    "AWS::IAM::Role": lambda name: f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
    "AWS::SQS::Queue": lambda name: f"arn:{PARTITION}:sqs:{REGION}:{ACCOUNT}:{name}",
    "AWS::SNS::Topic": lambda name: f"arn:{PARTITION}:sns:{REGION}:{ACCOUNT}:{name}",
    "AWS::DynamoDB::Table": lambda name: f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
    "AWS::Serverless::SimpleTable": lambda name: f"arn:{PARTITION}:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
    "AWS::Logs::LogGroup": lambda name: f"arn:{PARTITION}:logs:{REGION}:{ACCOUNT}:log-group:{name}:*",
    "AWS::Events::EventBus": lambda name: f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:event-bus/{name}",
    "AWS::Events::Rule": lambda name: f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:rule/{name}",
    "AWS::SSM::Parameter": lambda name: f"arn:{PARTITION}:ssm:{REGION}:{ACCOUNT}:parameter/{name.lstrip('/')}",
}


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


# ---------------------------------------------------------------- parameters and Globals


def _parameters(file: str, declared: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"{file}: Parameters: no parameter named {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, declaration in declared.items():
        spec = declaration or {}
        place = f"{file}: Parameters.{name}"
        if name in overrides:
            text = _as_text(overrides[name])
        elif "Default" in spec:
            text = _as_text(spec["Default"])
        else:
            raise TemplateError(f"{place}: no value given and no Default")
        allowed = [_as_text(value) for value in spec.get("AllowedValues") or []]
        if allowed and text not in allowed:
            raise TemplateError(f"{place}: {text!r} is not one of the AllowedValues {allowed}")
        if "AllowedPattern" in spec and not re.fullmatch(str(spec["AllowedPattern"]), text):
            raise TemplateError(f"{place}: {text!r} does not match AllowedPattern {spec['AllowedPattern']!r}")
        kind = str(spec.get("Type", "String"))
        if kind == "Number":
            try:
                number = float(text)
            except ValueError as exc:
                raise TemplateError(f"{place}: {text!r} is not a Number") from exc
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise TemplateError(f"{place}: {text} is below MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise TemplateError(f"{place}: {text} is above MaxValue {spec['MaxValue']}")
        values[name] = text.split(",") if kind.startswith("List<") or kind == "CommaDelimitedList" else text
    return values


def _sam_globals(file: str, document: dict[str, Any]) -> Any:
    """samtranslator's ``Globals`` of the template (the SAM transform's own merge), or None without a Globals section.

    Imported only for a template with Globals; an invalid section (a property SAM does not take globally) is a
    :class:`TemplateError`, as ``sam build`` refuses it.
    """
    if not document.get("Globals"):
        return None
    from samtranslator.plugins.globals.globals import (  # type: ignore[import-untyped]  # noqa: PLC0415
        Globals,
        InvalidGlobalsSectionException,
    )

    try:
        return Globals(document)
    except InvalidGlobalsSectionException as exc:
        raise TemplateError(f"{file}: Globals: {' '.join(exc.message.split())}") from exc


# ---------------------------------------------------------------- loading


def load_template(path: Path | str, parameter_overrides: Mapping[str, str] | None = None) -> Template:
    """Read and resolve a SAM template: the source, or ``sam build``'s ``.aws-sam/build/template.yaml``.

    Parameters
    ----------
    path
        The template file. Relative ``CodeUri``, ``ContentUri`` and ``DefinitionUri`` are relative to its folder
        (in ``sam build`` output they name the built folders next to it).
    parameter_overrides
        Parameter values, as ``sam deploy --parameter-overrides`` takes them; the others take their ``Default``.

    Returns
    -------
    Template
        Functions, state machines (definitions loaded, substituted and validated), buckets and API routes.

    Raises
    ------
    TemplateError
        Unreadable file, unknown or invalid parameter, a reference that does not resolve, code that is not local.
    DefinitionError
        A state machine definition with an unresolved placeholder or a broken structure.
    """
    path = Path(path)
    file = _display(path)
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"{file}: cannot read the template: {exc}") from exc
    except yaml.YAMLError as exc:
        raise TemplateError(f"{file}: not valid YAML: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        raise TemplateError(f"{file}: Resources: a template needs a Resources map")
    parameters = _parameters(file, document.get("Parameters") or {}, parameter_overrides or {})
    resolver = _Resolver(path, document, parameters)
    globals_ = _sam_globals(file, document)

    functions: dict[str, FunctionSpec] = {}
    state_machines: dict[str, StateMachineSpec] = {}
    buckets: dict[str, str] = {}
    topics: dict[str, str] = {}
    resources: dict[str, ResourceSpec] = {}
    apis: list[ApiRoute] = []
    for logical_id, resource in resolver.resources.items():
        if not resolver.resource_exists(logical_id):
            continue
        resource_type = resource.get("Type")
        properties = resource.get("Properties") or {}
        if resource_type in FUNCTION_TYPES:
            if resource_type == "AWS::Serverless::Function" and globals_ is not None:
                properties = globals_.merge(resource_type, properties, logical_id)
            functions[logical_id] = _function(resolver, logical_id, resource_type, properties)
            apis.extend(_routes(resolver, logical_id, "function", properties))
        elif resource_type in STATE_MACHINE_TYPES:
            if resource_type == "AWS::Serverless::StateMachine" and globals_ is not None:
                properties = globals_.merge(resource_type, properties, logical_id)
            state_machines[logical_id] = _state_machine(resolver, logical_id, resource_type, properties)
            apis.extend(_routes(resolver, logical_id, "state_machine", properties))
        elif resource_type in EMULATED_RESOURCE_TYPES:
            resources[logical_id] = _resource(resolver, logical_id, resource_type, properties)
            if resource_type == BUCKET_TYPE:
                buckets[logical_id] = resources[logical_id].name
            elif resource_type == TOPIC_TYPE:
                topics[logical_id] = resources[logical_id].name
    return Template(
        path=path,
        parameters=MappingProxyType(
            {k: _as_text(v) if not isinstance(v, list) else ",".join(v) for k, v in parameters.items()}
        ),
        functions=MappingProxyType(functions),
        state_machines=MappingProxyType(state_machines),
        buckets=MappingProxyType(buckets),
        apis=apis,
        topics=MappingProxyType(topics),
        resources=MappingProxyType(resources),
    )


def _resource(resolver: _Resolver, logical_id: str, resource_type: str, properties: dict[str, Any]) -> ResourceSpec:
    resolved: dict[str, Any] = {}
    for key, value in properties.items():
        try:
            item = resolver.resolve(value, f"Resources.{logical_id}.Properties.{key}")
        except TemplateError:
            continue  # never needed to create the resource (see ResourceSpec)
        if item is not _NO_VALUE:
            resolved[str(key)] = item
    if resource_type == BUCKET_TYPE:
        name = resolver.bucket_name(logical_id)
    elif resource_type == SECRET_TYPE:
        name = resolver._named(logical_id, ("Name",), f"{STACK_NAME}-{logical_id}")
    else:
        name = resolver.physical_name(logical_id)
    return ResourceSpec(logical_id, resource_type, name, MappingProxyType(resolved))


def _local_path(resolver: _Resolver, value: Any, place: str) -> Path:
    value = resolver.resolve(value, place)
    if not isinstance(value, str) or value.startswith("s3://"):
        raise resolver.error(place, f"{value!r} is not a local path: offline code and definitions must be on disk")
    return (resolver.path.parent / value).resolve()


def _function(resolver: _Resolver, logical_id: str, resource_type: str, properties: dict[str, Any]) -> FunctionSpec:
    place = f"Resources.{logical_id}.Properties"

    def prop(key: str, default: Any = None) -> Any:
        if key not in properties:
            return default
        value = resolver.resolve(properties[key], f"{place}.{key}")
        return default if value is _NO_VALUE else value

    code_key = "CodeUri" if resource_type == "AWS::Serverless::Function" else "Code"
    unavailable = _why_not_in_process(logical_id, properties, code_key, prop)
    code_uri = Path()
    if unavailable is None:
        code_uri = _local_path(resolver, properties[code_key], f"{place}.{code_key}")
    handler = prop("Handler", "")
    if unavailable is None and (not isinstance(handler, str) or "." not in handler):
        raise resolver.error(f"{place}.Handler", f"expected module.function, got {handler!r}")
    variables = (prop("Environment") or {}).get("Variables") or {}
    layers = tuple(
        path
        for i, layer in enumerate(properties.get("Layers") or [])
        if (path := _layer_dir(resolver, layer, f"{place}.Layers[{i}]")) is not None
    )
    try:
        timeout = float(prop("Timeout", DEFAULT_TIMEOUT_SECONDS))
        memory_mb = int(prop("MemorySize", DEFAULT_MEMORY_MB))
    except (TypeError, ValueError) as exc:
        raise resolver.error(place, f"Timeout and MemorySize must be numbers ({exc})") from exc
    return FunctionSpec(
        logical_id=logical_id,
        name=resolver.function_name(logical_id),
        arn=resolver.function_arn(logical_id),
        code_uri=code_uri,
        handler=handler,
        runtime=str(prop("Runtime", "")),
        layers=layers,
        environment=MappingProxyType({str(k): _as_text(v) for k, v in variables.items()}),
        timeout=timeout,
        memory_mb=memory_mb,
        unavailable=unavailable,
    )


def _why_not_in_process(
    logical_id: str, properties: Mapping[str, Any], code_key: str, prop: Callable[..., Any]
) -> str | None:
    """Why a function cannot run in-process, or None: it is then an error when called, not when loaded."""
    if prop("PackageType", "Zip") != "Zip":
        return f"{logical_id}: PackageType: a container image function cannot run in-process"
    runtime = str(prop("Runtime", "") or "")
    if runtime and not runtime.startswith("python"):
        return f"{logical_id}: Runtime: {runtime} cannot run in-process (Python only)"
    code = prop(code_key)
    if "InlineCode" in properties or (isinstance(code, dict) and "ZipFile" in code):
        return f"{logical_id}: inline code cannot run in-process; use a local {code_key}"
    if code is None:
        return f"{logical_id}: no {code_key}"
    if isinstance(code, dict) or str(code).startswith("s3://"):
        return f"{logical_id}: {code_key}: code in S3 cannot run in-process; use a local folder"
    return None


def _layer_dir(resolver: _Resolver, layer: Any, place: str) -> Path | None:
    """The import root of a layer defined in this template; ``None`` (with a warning) for a layer given by ARN."""
    logical_id = layer.get("Ref") if isinstance(layer, dict) and set(layer) == {"Ref"} else None
    if not isinstance(logical_id, str) or resolver._type_of(logical_id, place) not in LAYER_TYPES:
        arn = resolver.resolve(layer, place)
        warnings.warn(f"{resolver.file}: {place}: layer {arn} is not in the template; skipped", stacklevel=4)
        return None
    properties = resolver.resources[logical_id].get("Properties") or {}
    key = "ContentUri" if "ContentUri" in properties else "Content"
    root = _local_path(resolver, properties.get(key), f"Resources.{logical_id}.Properties.{key}")
    # A built layer (and a prebuilt layer tree) has python/; a source layer SAM builds with BuildMethod: python3.x
    # has not: SAM copies ContentUri into python/, so the source folder itself is the import root.
    return root / "python" if (root / "python").is_dir() else root


def _routes(
    resolver: _Resolver, logical_id: str, kind: Literal["function", "state_machine"], properties: Mapping[str, Any]
) -> list[ApiRoute]:
    routes = []
    for event_name, event in (properties.get("Events") or {}).items():
        if not isinstance(event, dict) or event.get("Type") not in {"Api", "HttpApi"}:
            continue
        place = f"Resources.{logical_id}.Properties.Events.{event_name}.Properties"
        event_properties = resolver.resolve(event.get("Properties") or {}, place)
        routes.append(
            ApiRoute(
                method=str(event_properties.get("Method", "ANY")).upper(),
                path=str(event_properties.get("Path", "$default")),
                target=logical_id,
                target_kind=kind,
                event_name=str(event_name),
                event_type=str(event["Type"]),
                payload_format=str(event_properties.get("PayloadFormatVersion", "2.0"))
                if event["Type"] == "HttpApi"
                else "1.0",
            )
        )
    return routes


def _state_machine(
    resolver: _Resolver, logical_id: str, resource_type: str, properties: dict[str, Any]
) -> StateMachineSpec:
    place = f"Resources.{logical_id}.Properties"
    serverless = resource_type == "AWS::Serverless::StateMachine"
    substitutions_place = f"{place}.DefinitionSubstitutions"
    substitutions = {
        str(key): _as_text(resolver.resolve(value, f"{substitutions_place}.{key}"))
        for key, value in (properties.get("DefinitionSubstitutions") or {}).items()
    }
    definition_path: Path | None = None
    uri_key = "DefinitionUri" if serverless else "DefinitionS3Location"
    if uri_key in properties:
        definition_path = _local_path(resolver, properties[uri_key], f"{place}.{uri_key}")
        where = _display(definition_path)
        raw = _read_definition(definition_path)
    elif "Definition" in properties:
        where = f"{resolver.file}: {place}.Definition"
        raw = resolver.resolve(properties["Definition"], f"{place}.Definition")
    elif "DefinitionString" in properties:
        where = f"{resolver.file}: {place}.DefinitionString"
        text = resolver.resolve(properties["DefinitionString"], f"{place}.DefinitionString")
        try:
            raw = json.loads(text)
        except (TypeError, json.JSONDecodeError) as exc:
            raise resolver.error(f"{place}.DefinitionString", f"not JSON: {exc}") from exc
    else:
        raise resolver.error(place, "no Definition, DefinitionUri or DefinitionString")
    if not isinstance(raw, dict):
        raise DefinitionError(where, ["$: a definition is a JSON object"])
    definition = _substitute(raw, substitutions, where)
    validate_definition(definition, where)
    events: dict[str, dict[str, Any]] = {}
    for event_name, event in (properties.get("Events") or {}).items() if serverless else ():
        event_place = f"{place}.Events.{event_name}"
        resolved = resolver.resolve(event, event_place)
        events[str(event_name)] = {"Type": resolved.get("Type"), "Properties": resolved.get("Properties") or {}}
    kind = properties.get("Type" if serverless else "StateMachineType", "STANDARD")
    return StateMachineSpec(
        logical_id=logical_id,
        name=resolver.state_machine_name(logical_id),
        arn=resolver.state_machine_arn(logical_id),
        type=str(resolver.resolve(kind, f"{place}.Type")).upper(),
        definition=definition,
        definition_path=definition_path,
        events=MappingProxyType(events),
        template_path=resolver.path,
    )


def _read_definition(path: Path) -> Any:
    """A ``DefinitionUri`` file: YAML (``.yaml``/``.yml``, aliases resolved) or JSON; a syntax error names its line."""
    where = _display(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DefinitionError(where, [f"cannot read the definition: {exc}"]) from exc
    if path.suffix.lower() not in {".yaml", ".yml"}:
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DefinitionError(where, [f"line {exc.lineno} column {exc.colno}: not JSON: {exc.msg}"]) from exc
    try:
        return yaml.load(text, Loader=_SAFE_LOADER)  # noqa: S506  (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"line {mark.line + 1} column {mark.column + 1}: " if mark is not None else ""
        problem = " ".join(str(getattr(exc, "problem", None) or exc).split())
        raise DefinitionError(where, [f"{place}not YAML: {problem}"]) from exc


def _substitute(definition: dict[str, Any], substitutions: Mapping[str, str], where: str) -> dict[str, Any]:
    """Replace ``${Name}`` in every string (keys included) of the definition; all placeholders must resolve.

    CloudFormation replaces the placeholders in the definition's text; here they are replaced in the parsed strings,
    so a value that contains a quote cannot break the JSON. Values are text, as ``DefinitionSubstitutions`` maps
    strings to strings.
    """
    problems: list[str] = []

    def text(value: str, path: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in substitutions:
                return substitutions[name]
            problems.append(
                f"{path}: unresolved placeholder ${{{name}}} ({_state_of(path)}no DefinitionSubstitutions entry)"
            )
            return match.group(0)

        return _PLACEHOLDER.sub(replace, value)

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, dict):
            return {text(str(k), f"{path}.{k}"): walk(v, f"{path}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [walk(item, f"{path}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, str):
            return text(value, path)
        return value

    result: dict[str, Any] = walk(definition, "$")
    if problems:
        raise DefinitionError(where, problems)
    return result


def _state_of(path: str) -> str:
    names = re.findall(r"\.States\.([^.\[]+)", path)
    return f"state {names[-1]!r}, " if names else ""


# ---------------------------------------------------------------- validation

_STATE_TYPES: Final = frozenset({"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"})
_TERMINAL_TYPES: Final = frozenset({"Choice", "Succeed", "Fail"})


def validate_definition(definition: dict[str, Any], where: str) -> None:
    """Check what AWS's ``CreateStateMachine`` checks and moto does not, before anything runs.

    ``StartAt`` names a state; every ``Next``, ``Default``, Choice rule ``Next`` and Catch ``Next`` names a state of
    the same scope (each Parallel branch and each Map ``ItemProcessor``/``Iterator`` is a scope of its own); every
    state has a known ``Type``; states that are not Choice, Succeed or Fail have ``Next`` or ``End: true``; Task
    states have ``Resource``; Choice states have ``Choices``; no ``${...}`` placeholder is left anywhere. States no
    transition reaches are reported as a :class:`DefinitionWarning`.

    Parameters
    ----------
    definition
        The ASL document.
    where
        Prefix of every message (a file, or ``file: place`` for an inline definition).

    Raises
    ------
    DefinitionError
        Listing every problem with the JSON path to it, e.g. ``$.States.Fan Out.Branches[0].States.A.Next``.
    """
    problems: list[str] = []
    unreachable: list[str] = []
    for path, leftover in _leftover_placeholders(definition, "$"):
        problems.append(f"{path}: unresolved placeholder {leftover}")
    _check_scope(definition, "$", problems, unreachable)
    if unreachable and not problems:  # a dangling transition makes its targets look unreachable: say it once
        warnings.warn(f"{where}: unreachable states: {', '.join(unreachable)}", DefinitionWarning, stacklevel=2)
    if problems:
        raise DefinitionError(where, problems)


def _leftover_placeholders(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}"
            yield from ((child, m.group(0)) for m in _PLACEHOLDER.finditer(str(key)))
            yield from _leftover_placeholders(item, child)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _leftover_placeholders(item, f"{path}[{i}]")
    elif isinstance(value, str):
        yield from ((path, m.group(0)) for m in _PLACEHOLDER.finditer(value))


def _check_scope(scope: Any, path: str, problems: list[str], unreachable: list[str]) -> None:
    if not isinstance(scope, dict):
        problems.append(f"{path}: expected an object with StartAt and States")
        return
    states = scope.get("States")
    if not isinstance(states, dict) or not states:
        problems.append(f"{path}.States: no states")
        return
    start = scope.get("StartAt")
    if start not in states:
        problems.append(f"{path}.StartAt: {start!r} is not a state in this scope")
    edges: dict[str, list[str]] = {}
    for name, state in states.items():
        here = f"{path}.States.{name}"
        if not isinstance(state, dict):
            problems.append(f"{here}: a state is an object")
            continue
        edges[name] = _check_state(state, here, set(states), problems)
        kind = state.get("Type")
        if kind == "Parallel":
            branches = state.get("Branches")
            if not isinstance(branches, list) or not branches:
                problems.append(f"{here}.Branches: a Parallel state needs at least one branch")
            for i, branch in enumerate(branches or []):
                _check_scope(branch, f"{here}.Branches[{i}]", problems, unreachable)
        elif kind == "Map":
            key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
            if key not in state:
                problems.append(f"{here}: a Map state needs ItemProcessor (or Iterator)")
            else:
                _check_scope(state[key], f"{here}.{key}", problems, unreachable)
    reached: set[str] = set()
    pending: list[str] = [str(start)] if start in states else []
    while pending:
        name = pending.pop()
        if name not in reached:
            reached.add(name)
            pending.extend(edges.get(name, []))
    if start in states:
        unreachable.extend(f"{path}.States.{name}" for name in states if name not in reached)


def _check_state(state: dict[str, Any], here: str, names: set[str], problems: list[str]) -> list[str]:
    """Problems of one state; returns the names it may transition to (known ones only)."""
    kind = state.get("Type")
    if kind not in _STATE_TYPES:
        problems.append(f"{here}.Type: {kind!r} is not a state type ({', '.join(sorted(_STATE_TYPES))})")
    targets: list[tuple[str, Any]] = []
    if "Next" in state:
        targets.append((f"{here}.Next", state["Next"]))
    if kind == "Choice":
        choices = state.get("Choices")
        if not isinstance(choices, list) or not choices:
            problems.append(f"{here}.Choices: a Choice state needs at least one rule")
        for i, rule in enumerate(choices or []):
            if not isinstance(rule, dict) or "Next" not in rule:
                problems.append(f"{here}.Choices[{i}]: a choice rule needs Next")
            else:
                targets.append((f"{here}.Choices[{i}].Next", rule["Next"]))
        if "Default" in state:
            targets.append((f"{here}.Default", state["Default"]))
    for i, catcher in enumerate(state.get("Catch") or []):
        if not isinstance(catcher, dict) or "Next" not in catcher:
            problems.append(f"{here}.Catch[{i}]: a catcher needs Next")
        else:
            targets.append((f"{here}.Catch[{i}].Next", catcher["Next"]))
    if kind == "Task" and not state.get("Resource"):
        problems.append(f"{here}.Resource: a Task state needs Resource")
    if kind in _STATE_TYPES and kind not in _TERMINAL_TYPES:
        ends = state.get("End") is True
        if ends == ("Next" in state):
            problems.append(f"{here}: a {kind} state needs exactly one of Next and End: true")
    found = []
    for place, target in targets:
        if target in names:
            found.append(str(target))
        else:
            problems.append(f"{place}: {target!r} is not a state in this scope")
    return found
