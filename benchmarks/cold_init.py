"""Cold init of the handlers, measured in fresh interpreters, and ``-X importtime`` attribution of where it goes.

Every sample is a new ``python`` process running a few statements (the *work*): the child times the work with
``time.perf_counter()`` and prints it; the parent also times the whole process (interpreter start-up and shutdown
included). Variants are run interleaved, in a shuffled order per round, so that the noise of a shared 2-core machine
spreads evenly over them.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_MARKER = "COLD_INIT_SECONDS="
_CHILD_TEMPLATE = """\
import sys
import time
sys.modules.update(dict.fromkeys({hidden!r}))
_started = time.perf_counter()
{work}
_elapsed = time.perf_counter() - _started
print({marker!r} + repr(_elapsed))
"""
# Installed here for the dev tools only (aws-sam-cli brings boto3[crt], pyOpenSSL and requests) and absent from the
# Lambda runtime (AWS offers no CRT build of the Python images: aws/aws-lambda-base-images#147; requests left botocore
# years ago). Yet they are imported whenever present: boto3 takes awscrt and pyOpenSSL (about a third of `import boto3`
# in this venv), and X-Ray's patch_all imports requests to patch it. The children hide them by default: a None entry
# in sys.modules makes an import fail as a missing package does, and it is set before the timed work.
NOT_IN_LAMBDA_RUNTIME = ("awscrt", "OpenSSL", "requests")
# Compiled bytecode goes to a cache of the benchmark's own (the project's environment sets PYTHONDONTWRITEBYTECODE,
# which would make every child compile boto3 and pydantic from source: seconds, not what a deployed function pays).
PYCACHE = Path(tempfile.gettempdir()) / "sfn-bedrock-companion-bench-pycache"


@dataclass(frozen=True)
class Module:
    """One handler: its package under ``functions/`` and the AWS clients it creates on its first invocation."""

    logical_id: str
    package: str
    uses_s3: bool


FUNCTIONS = (
    Module("PreprocessPromptFunction", "preprocess_prompt", uses_s3=True),
    Module("ResolveOutputFunction", "resolve_output", uses_s3=True),
    Module("PostprocessResultFunction", "postprocess_result", uses_s3=False),
)

_CLIENTS = "from companion.adapters.s3 import default_client\ndefault_client()"
_TRACER = "from aws_lambda_powertools import Tracer\nTracer()"
# What any handler in the house style pays whatever its code: Powertools' Logger and Metrics, and one pydantic model.
_FLOOR = (
    "from aws_lambda_powertools import Logger, Metrics\nLogger()\nMetrics()\n"
    "from pydantic import BaseModel\nclass Event(BaseModel):\n    name: str"
)

# The order in which variants are printed.
VARIANTS = ("bare", "floor", "import", "function", "tracer")
VARIANT_LABELS = {
    "bare": "bare: import boto3 + create the same clients",
    "floor": "reference: Logger, Metrics, 1 pydantic model (+ clients)",
    "import": "handler import only",
    "function": "handler import + its clients",
    "tracer": "... + Powertools Tracer() (not shipped)",
}


def variant_label(code: str, variant: str) -> str:
    if "client" not in code and variant in {"bare", "function"}:
        return {"bare": "bare: import boto3 (it creates no client)", "function": "handler import (+ no clients)"}[
            variant
        ]
    return VARIANT_LABELS[variant]


def variant_code(function: Module, variant: str) -> str:
    """The statements one child runs and times for ``variant`` of ``function``."""
    handler = f"import {function.package}.app"
    clients = [_CLIENTS] if function.uses_s3 else []
    clients_bare = ["import boto3", 'boto3.client("s3")'] if function.uses_s3 else []
    statements = {
        # A function that creates no client has nothing to compare with but `import boto3` (the definition).
        "bare": clients_bare or ["import boto3"],
        "floor": [*clients_bare, _FLOOR],
        "import": [handler],
        "function": [handler, *clients],
        # Where a Tracer would live: created at import time next to Logger and Metrics, so before any client
        # (X-Ray's patching then wraps botocore, as it would in the deployed function).
        "tracer": [handler, _TRACER, *clients],
    }[variant]
    return "\n".join(statements)


def child_environment(handler_env: Mapping[str, str]) -> dict[str, str]:
    """The parent's environment, made to look like a Lambda sandbox where that matters for init."""
    env = dict(os.environ)
    for name in ("PYTHONDONTWRITEBYTECODE", "POWERTOOLS_TRACE_DISABLED", "POWERTOOLS_DEV", "PYTHONPROFILEIMPORTTIME"):
        env.pop(name, None)
    env.update(handler_env)
    env["PYTHONPATH"] = os.pathsep.join(str(ROOT / part) for part in ("layers/runtime", "functions"))
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    # Lambda sets LAMBDA_TASK_ROOT; without it Powertools' Tracer disables itself and skips X-Ray's patching, which
    # would hide the very cost this benchmark is asked to show.
    env["LAMBDA_TASK_ROOT"] = str(ROOT)
    return env


@dataclass
class Samples:
    in_process_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Children:
    """How children are started: their environment, and whether they hide what the Lambda runtime lacks."""

    env: Mapping[str, str]
    lambda_like: bool = True

    def run(self, code: str, *, importtime: bool = False) -> tuple[float, float, str]:
        """Run ``code`` in a fresh interpreter; return (in-process ms, whole-process wall ms, stderr)."""
        hidden = NOT_IN_LAMBDA_RUNTIME if self.lambda_like else ()
        child = _CHILD_TEMPLATE.format(work=code, marker=_MARKER, hidden=hidden)
        argv = [sys.executable, *(["-X", "importtime"] if importtime else []), "-c", child]
        started = time.perf_counter()
        done = subprocess.run(argv, env=self.env, cwd=ROOT, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(f"cold-init child failed ({done.returncode}) running:\n{code}\n{done.stderr[-3000:]}")
        reported = [line for line in done.stdout.splitlines() if line.startswith(_MARKER)]
        if not reported:
            raise RuntimeError(f"cold-init child printed no timing for:\n{code}\n{done.stdout[-2000:]}")
        return float(reported[-1].removeprefix(_MARKER)) * 1000, wall * 1000, done.stderr


def measure(
    codes: Iterable[str],
    children: Children,
    runs: int,
    seed: int,
    progress: Callable[[str], None],
) -> dict[str, Samples]:
    """One unmeasured run of each distinct ``code`` (fills the bytecode cache), then ``runs`` interleaved rounds."""
    distinct = list(dict.fromkeys(codes))
    for code in distinct:
        children.run(code)
    samples = {code: Samples() for code in distinct}
    # Not cryptography: a seeded shuffle so that no variant always runs right after another.
    shuffler = random.Random(seed)  # noqa: S311
    for round_number in range(runs):
        progress(f"cold init: round {round_number + 1}/{runs} ({len(distinct)} child processes)")
        order = distinct[:]
        shuffler.shuffle(order)
        for code in order:
            in_process, wall, _ = children.run(code)
            samples[code].in_process_ms.append(in_process)
            samples[code].wall_ms.append(wall)
    return samples


# ----------------------------------------------------------------------------------------- -X importtime attribution

# Top-level packages grouped the way a reader thinks about them.
GROUPS: dict[str, tuple[str, ...]] = {
    "boto3 stack (boto3, botocore, s3transfer, urllib3, dateutil, jmespath)": (
        "boto3",
        "botocore",
        "s3transfer",
        "urllib3",
        "dateutil",
        "jmespath",
        "six",
    ),
    "pydantic (+ pydantic_core, annotated_types, typing_*)": (
        "pydantic",
        "pydantic_core",
        "annotated_types",
        "typing_extensions",
        "typing_inspection",
    ),
    "aws_lambda_powertools": ("aws_lambda_powertools",),
    "fastjsonschema": ("fastjsonschema",),
    "aws_xray_sdk (+ wrapt)": ("aws_xray_sdk", "wrapt"),
    "companion layer (module bodies incl. pydantic model building)": ("companion",),
    "handler modules (functions/*/app.py)": tuple(function.package for function in FUNCTIONS),
}


def group_of(module: str) -> str:
    top = module.split(".", 1)[0]
    for group, members in GROUPS.items():
        if top in members:
            return group
    if top in sys.stdlib_module_names:
        return "stdlib (json, email, logging, uuid, ...)"
    return f"other ({top})"


def parse_importtime(stderr: str) -> dict[str, float]:
    """Self time in ms per module from ``-X importtime`` output (a module imported twice is counted once)."""
    self_ms: dict[str, float] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        own, _cumulative, name = line.removeprefix("import time:").split("|", 2)
        self_ms.setdefault(name.strip(), int(own) / 1000)
    return self_ms


@dataclass
class Attribution:
    """Median import self time per module, which of them the bare variant imports too, and what Tracer() adds."""

    self_ms: dict[str, float]
    bare_modules: frozenset[str]
    importtime_total_ms: float
    in_process_ms: float
    tracer_extra_ms: dict[str, float]

    def by_group(self) -> list[tuple[str, float, float]]:
        """(group, self ms, self ms of modules the bare variant does not import), largest extra cost first."""
        totals: dict[str, list[float]] = {}
        for module, own in self.self_ms.items():
            entry = totals.setdefault(group_of(module), [0.0, 0.0])
            entry[0] += own
            if module not in self.bare_modules:
                entry[1] += own
        return sorted(((g, t[0], t[1]) for g, t in totals.items()), key=lambda row: (-row[2], -row[1]))

    def top_modules(self, count: int) -> list[tuple[str, float]]:
        """The modules with the largest self time among those the bare variant does not import."""
        extra = [(module, own) for module, own in self.self_ms.items() if module not in self.bare_modules]
        return sorted(extra, key=lambda row: -row[1])[:count]

    def tracer_by_package(self) -> list[tuple[str, float]]:
        """Self time of the modules Tracer() imports beyond the function's own, per top-level package."""
        totals: dict[str, float] = {}
        for module, own in self.tracer_extra_ms.items():
            top = module.split(".", 1)[0]
            totals[top] = totals.get(top, 0.0) + own
        return sorted(totals.items(), key=lambda row: -row[1])


def _medians(runs: list[dict[str, float]]) -> dict[str, float]:
    per_module: dict[str, list[float]] = {}
    for parsed in runs:
        for module, own in parsed.items():
            per_module.setdefault(module, []).append(own)
    return {module: statistics.median(values) for module, values in per_module.items()}


def attribute(function: Module, children: Children, runs: int) -> Attribution:
    """``-X importtime`` of the bare, function and Tracer variants, ``runs`` times each; medians per module."""
    parsed: dict[str, list[dict[str, float]]] = {"bare": [], "function": [], "tracer": []}
    in_process: list[float] = []
    for _ in range(runs):
        for variant, found in parsed.items():
            elapsed, _, stderr = children.run(variant_code(function, variant), importtime=True)
            found.append(parse_importtime(stderr))
            if variant == "function":
                in_process.append(elapsed)
    function_ms = _medians(parsed["function"])
    return Attribution(
        self_ms=function_ms,
        bare_modules=frozenset(module for found in parsed["bare"] for module in found),
        importtime_total_ms=statistics.median(sum(found.values()) for found in parsed["function"]),
        in_process_ms=statistics.median(in_process),
        tracer_extra_ms={
            module: own for module, own in _medians(parsed["tracer"]).items() if module not in function_ms
        },
    )
