"""What the companion Lambdas cost on top of a bare Python handler: cold init, and warm invocations.

1. Cold init, per function, in fresh interpreters: the handler import plus the clients the function creates, against
   a bare handler that imports boto3 and creates the same clients (post-process creates none: its bare handler is
   ``import boto3`` alone). Also shown: the import alone, and the function with Powertools' Tracer added, which the
   project chose not to ship, and a floor: Logger, Metrics and one pydantic model with no project code.
2. ``-X importtime`` attribution of the difference, by package and by module.
3. Warm invocations of pre-process and post-process at ~1 KiB and ~200 KiB events, against the JSON marshalling the
   Lambda runtime does for every invocation (and the floor: Powertools' decorators, one log line, two metrics).
4. A table of the aims: cold init ratio <= 1.15, warm ratio <= 2.

Medians over interleaved repeats (this runs on small, noisy machines); nothing here asserts on time.

Run with ``make bench``, or ``PYTHONPATH=layers/runtime:functions uv run python benchmarks/lambda_overhead.py``;
``--json PATH`` also writes every figure as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cold_init
import warm_invoke

ROOT = Path(__file__).resolve().parent.parent
INIT_AIM = 1.15
WARM_AIM = 2.0
# What template.yaml's Globals give every function, plus fake credentials: nothing here may reach AWS.
HANDLER_ENV = {
    "AWS_ACCESS_KEY_ID": "benchmark",
    "AWS_SECRET_ACCESS_KEY": "benchmark",
    "AWS_SESSION_TOKEN": "benchmark",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "OFFLOAD_BUCKET": "sfn-bedrock-companion-payloads-bench",
    "POWERTOOLS_SERVICE_NAME": "sfn-bedrock-companion",
    "POWERTOOLS_METRICS_NAMESPACE": "SfnBedrockCompanion",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
    "POWERTOOLS_METRICS_DISABLED": "false",
}
_STARTED = time.perf_counter()


def progress(message: str) -> None:
    print(f"[{time.perf_counter() - _STARTED:5.0f}s] {message}", file=sys.stderr, flush=True)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> str:
    """A plain aligned text table; columns whose index is in ``right`` are right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(cell).rjust(width) if i in right else str(cell).ljust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join([line(headers), line(["-" * width for width in widths]), *(line(row) for row in rows)])


def summary(values: Sequence[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "samples": list(values)}


def per_round(mine: Sequence[float], theirs: Sequence[float], *, ratio: bool = True) -> dict[str, float]:
    """Quartiles of mine/theirs (or mine - theirs) taken round by round.

    Every round runs each variant once, close together in time, so comparing within a round cancels the slow swings
    of a shared machine that shift whole rounds; the median of these is the figure reported, the quartiles its spread.
    """
    values = [a / b if ratio else a - b for a, b in zip(mine, theirs, strict=True)]
    q1, median, q3 = statistics.quantiles(values, n=4)
    return {"q1": q1, "median": median, "q3": q3}


def ms(stats: dict[str, Any]) -> str:
    return f"{stats['median']:7.1f} ({stats['min']:6.1f})"


# ------------------------------------------------------------------------------------------------------ cold init


def run_cold_init(runs: int, importtime_runs: int, seed: int, *, lambda_like: bool) -> dict[str, Any]:
    children = cold_init.Children(cold_init.child_environment(HANDLER_ENV), lambda_like=lambda_like)
    codes = {
        (function.logical_id, variant): cold_init.variant_code(function, variant)
        for function in cold_init.FUNCTIONS
        for variant in cold_init.VARIANTS
    }
    samples = cold_init.measure(codes.values(), children, runs, seed, progress)
    results: dict[str, Any] = {}
    for function in cold_init.FUNCTIONS:
        variants: dict[str, dict[str, Any]] = {}
        for variant in cold_init.VARIANTS:
            measured = samples[codes[function.logical_id, variant]]
            variants[variant] = {
                "code": codes[function.logical_id, variant],
                "in_process_ms": summary(measured.in_process_ms),
                "wall_ms": summary(measured.wall_ms),
            }
        bare = variants["bare"]
        for entry in variants.values():
            entry["ratio_in_process"] = per_round(entry["in_process_ms"]["samples"], bare["in_process_ms"]["samples"])
            entry["ratio_wall"] = per_round(entry["wall_ms"]["samples"], bare["wall_ms"]["samples"])
            entry["ratio_of_medians_in_process"] = entry["in_process_ms"]["median"] / bare["in_process_ms"]["median"]
        tracer_adds = per_round(
            variants["tracer"]["in_process_ms"]["samples"],
            variants["function"]["in_process_ms"]["samples"],
            ratio=False,
        )
        progress(f"-X importtime attribution: {function.logical_id}")
        attribution = cold_init.attribute(function, children, importtime_runs)
        results[function.logical_id] = {
            "variants": variants,
            "tracer_adds_ms": tracer_adds,
            "importtime": {
                "runs": importtime_runs,
                "in_process_ms_under_importtime": attribution.in_process_ms,
                "imports_self_ms_total": attribution.importtime_total_ms,
                "imports_self_ms_not_in_bare": sum(extra for _, _, extra in attribution.by_group()),
                "by_group": [
                    {"group": group, "self_ms": total, "self_ms_not_in_bare": extra}
                    for group, total, extra in attribution.by_group()
                ],
                "top_modules_not_in_bare": [
                    {"module": module, "self_ms": self_ms} for module, self_ms in attribution.top_modules(10)
                ],
                "tracer_imports_beyond_function": [
                    {"package": package, "self_ms": self_ms} for package, self_ms in attribution.tracer_by_package()
                ],
            },
        }
    return results


def render_cold_init(results: dict[str, Any], runs: int, *, lambda_like: bool) -> str:
    rows = []
    for logical_id, result in results.items():
        for variant in cold_init.VARIANTS:
            entry = result["variants"][variant]
            spread = entry["ratio_in_process"]
            in_process = f"{spread['median']:.2f}x [{spread['q1']:.2f}-{spread['q3']:.2f}]"
            ratio = "" if variant == "bare" else f"{in_process} / {entry['ratio_wall']['median']:.2f}x"
            rows.append(
                [
                    logical_id if variant == "bare" else "",
                    cold_init.variant_label(result["variants"][variant]["code"], variant),
                    ms(entry["in_process_ms"]),
                    ms(entry["wall_ms"]),
                    ratio,
                ]
            )
    boto3 = (
        "   Lambda's runtime lacks awscrt, pyOpenSSL and requests (here for aws-sam-cli only): every child hides\n"
        "   them. Else boto3 loads the first two (a third more for `import boto3`) and X-Ray's patch_all the third."
        if lambda_like
        else "   --as-installed: awscrt, pyOpenSSL and requests left importable, which is more than Lambda loads."
    )
    lines = [
        f"1. COLD INIT: a fresh interpreter per sample, {runs} interleaved runs per variant after one unmeasured run",
        "   in-process = perf_counter around the work inside the child; wall = the whole child process",
        "   (interpreter start-up and shutdown included). PostprocessResult creates no client: bare = `import boto3`.",
        "   Ratios are taken within each round (every variant runs once per round) then the median of the rounds,",
        "   with its quartiles in brackets: that cancels the machine's slow swings that the ms medians still carry.",
        boto3,
        "",
        table(
            [
                "function",
                "variant",
                "in-process ms median (min)",
                "wall ms median (min)",
                "vs bare: in-proc [IQR] / wall",
            ],
            rows,
            right=(2, 3, 4),
        ),
        "",
    ]
    for logical_id, result in results.items():
        adds = result["tracer_adds_ms"]
        lines.append(
            f"   Tracer() would add {adds['median']:4.0f} ms [{adds['q1']:.0f} to {adds['q3']:.0f}] to {logical_id}'s "
            "init (X-Ray SDK import and patch_all; per-round difference)"
        )
    return "\n".join(lines)


def render_attribution(results: dict[str, Any]) -> str:
    lines = [
        "2. WHERE HANDLER INIT GOES: `python -X importtime`, handler import + clients, self time per module",
        "   (median of the runs; importtime itself slows imports down). 'not in bare' = modules the bare variant",
        "   does not import, i.e. what the project adds; client creation is not an import and is not listed.",
    ]
    for logical_id, result in results.items():
        found = result["importtime"]
        tracer = found["tracer_imports_beyond_function"]
        lines += [
            "",
            f"   {logical_id}: imports {found['imports_self_ms_total']:.0f} ms in all, "
            f"{found['imports_self_ms_not_in_bare']:.0f} ms not in bare "
            f"(work under importtime: {found['in_process_ms_under_importtime']:.0f} ms)",
            table(
                ["   group", "self ms", "not in bare ms"],
                [
                    [f"   {row['group']}", f"{row['self_ms']:.1f}", f"{row['self_ms_not_in_bare']:.1f}"]
                    for row in found["by_group"]
                    if row["self_ms"] >= 2
                ],
                right=(1, 2),
            ),
            "   largest modules not in bare: "
            + ", ".join(f"{row['module']} {row['self_ms']:.1f}" for row in found["top_modules_not_in_bare"]),
            f"   Tracer() imports {sum(row['self_ms'] for row in tracer):.0f} ms more: "
            + ", ".join(f"{row['package']} {row['self_ms']:.1f}" for row in tracer if row["self_ms"] >= 1),
        ]
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- warm invocations


def run_warm(rounds: int, seed: int) -> list[warm_invoke.WarmResult]:
    os.environ.update(HANDLER_ENV)
    for name in ("POWERTOOLS_DEV", "POWERTOOLS_TRACE_DISABLED"):
        os.environ.pop(name, None)
    # The Makefile runs this file as a script, so only benchmarks/ is on the path; tools/ lives at the root.
    sys.path.insert(0, str(ROOT))
    # Imported only now: boto3 and the handlers read the environment set above.
    import boto3  # noqa: PLC0415
    from moto import mock_aws  # noqa: PLC0415

    from companion.adapters.s3 import default_client  # noqa: PLC0415
    from tools.local_lambda import LocalLambdaContext, load_handler  # noqa: PLC0415

    handlers = {case.logical_id: load_handler(case.logical_id) for case in warm_invoke.CASES if not case.reference}
    handlers[warm_invoke.FLOOR] = warm_invoke.powertools_floor()
    with mock_aws(), warm_invoke.stdout_to_devnull():
        default_client.cache_clear()
        boto3.client("s3").create_bucket(Bucket=HANDLER_ENV["OFFLOAD_BUCKET"])
        try:
            return warm_invoke.measure(
                handlers, lambda logical_id: LocalLambdaContext(function_name=logical_id), rounds, seed, progress
            )
        finally:
            default_client.cache_clear()


def warm_to_json(results: list[warm_invoke.WarmResult]) -> list[dict[str, Any]]:
    return [
        {
            "function": result.case.logical_id,
            "case": result.case.label,
            "event_bytes": result.event_bytes,
            "output_bytes": result.output_bytes,
            "baseline_us": summary(result.baseline_us),
            "handler_us": summary(result.handler_us),
            "ratio": per_round(result.handler_us, result.baseline_us),
            "ratio_of_medians": statistics.median(result.handler_us) / statistics.median(result.baseline_us),
            "reference": result.case.reference,
        }
        for result in results
    ]


def render_warm(results: list[dict[str, Any]], rounds: int) -> str:
    def us(stats: dict[str, Any]) -> str:
        return f"{stats['median']:9.1f} ({stats['min']:8.1f})"

    rows = [
        [
            entry["function"],
            entry["case"],
            f"{entry['event_bytes']:,}",
            f"{entry['output_bytes']:,}",
            us(entry["baseline_us"]),
            us(entry["handler_us"]),
            f"{entry['ratio']['median']:.2f}x [{entry['ratio']['q1']:.2f}-{entry['ratio']['q3']:.2f}]",
        ]
        for entry in results
    ]
    return "\n".join(
        [
            f"3. WARM INVOCATION: per-call time, median (min) of {rounds} interleaved rounds, gc on; ratio per round,",
            "   median [quartiles], as for cold init.",
            "   baseline = json.loads(serialized event) + json.dumps(that object): the runtime's own marshalling.",
            "   handler = lambda_handler(event, LocalLambdaContext) with INFO logs and EMF metrics written to",
            "   /dev/null; S3 emulated by moto; pre-process stays inline (offload.max_inline_bytes = 262144);",
            "   post-process 1 KiB parses a fenced JSON answer and checks it against the sample's schema.",
            "",
            table(
                ["function", "event", "event bytes", "output bytes", "baseline us", "handler us", "ratio [IQR]"],
                rows,
                right=(2, 3, 4, 5, 6),
            ),
        ]
    )


# --------------------------------------------------------------------------------------------------------- summary


def aims(cold: dict[str, Any], warm: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for logical_id, result in cold.items():
        variants = result["variants"]
        bare = "import boto3" if "client" not in variants["bare"]["code"] else "import boto3 + S3 client"
        rows.append(
            {
                "function": logical_id,
                "metric": f"cold init vs bare ({bare})",
                "measured": variants["function"]["ratio_in_process"]["median"],
                "aim": INIT_AIM,
            }
        )
    rows += [
        {
            "function": logical_id,
            "metric": "cold init with Tracer added (not shipped)",
            "measured": result["variants"]["tracer"]["ratio_in_process"]["median"],
            "aim": INIT_AIM,
        }
        for logical_id, result in cold.items()
    ]
    rows += [
        {
            "function": entry["function"],
            "metric": f"warm, {entry['case']}",
            "measured": entry["ratio"]["median"],
            "aim": WARM_AIM,
        }
        for entry in warm
        if not entry["reference"]
    ]
    for row in rows:
        row["met"] = row["measured"] <= row["aim"]
    return rows


def render_aims(rows: list[dict[str, Any]], cold: dict[str, Any], warm: list[dict[str, Any]]) -> str:
    cold_floors = ", ".join(
        f"{logical_id} {result['variants']['floor']['ratio_in_process']['median']:.2f}x"
        for logical_id, result in cold.items()
    )
    warm_floors = ", ".join(f"{entry['case']} {entry['ratio']['median']:.2f}x" for entry in warm if entry["reference"])
    return "\n".join(
        [
            "4. AIMS (median per-round ratios from sections 1 and 3; cold init in-process)",
            "",
            table(
                ["function", "metric", "measured", "aim", "met?"],
                [
                    [
                        row["function"],
                        row["metric"],
                        f"{row['measured']:.2f}x",
                        f"<= {row['aim']:.2f}x",
                        "yes" if row["met"] else "NO",
                    ]
                    for row in rows
                ],
                right=(2, 3),
            ),
            "",
            "   Floors that hold with no project code at all, measured the same way:",
            "   - cold init, Logger + Metrics + one pydantic model (+ the same clients) over bare:",
            f"     {cold_floors}",
            f"   - warm, Powertools decorators + 1 log line + 2 metrics and no work: {warm_floors}",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every figure to PATH as JSON")
    parser.add_argument("--runs", type=int, default=15, help="cold-init runs per variant (default 15, at least 7)")
    parser.add_argument("--importtime-runs", type=int, default=3, help="-X importtime runs per function (default 3)")
    parser.add_argument("--rounds", type=int, default=15, help="warm rounds per case (default 15)")
    parser.add_argument("--seed", type=int, default=20261125, help="seed of the interleaving order")
    parser.add_argument(
        "--as-installed",
        action="store_true",
        help="leave awscrt, pyOpenSSL and requests importable in the cold-init children (absent in Lambda)",
    )
    args = parser.parse_args()
    if args.runs < 7:
        parser.error("--runs must be at least 7")

    cold = run_cold_init(args.runs, args.importtime_runs, args.seed, lambda_like=not args.as_installed)
    warm = warm_to_json(run_warm(args.rounds, args.seed))
    rows = aims(cold, warm)
    elapsed = time.perf_counter() - _STARTED
    header = (
        f"Lambda overhead benchmark: Python {platform.python_version()} ({sys.executable}), {platform.system()} "
        f"{platform.machine()}, {os.cpu_count()} CPUs, {elapsed:.0f} s. Times in ms or us: median (min)."
    )
    print(
        "\n\n".join(
            [header, render_cold_init(cold, args.runs, lambda_like=not args.as_installed), render_attribution(cold)]
        )
    )
    print()
    print(render_warm(warm, args.rounds))
    print()
    print(render_aims(rows, cold, warm))
    if args.json:
        report = {
            "python": platform.python_version(),
            "platform": f"{platform.system()} {platform.machine()}",
            "cpus": os.cpu_count(),
            "elapsed_s": elapsed,
            "settings": {
                "runs": args.runs,
                "importtime_runs": args.importtime_runs,
                "rounds": args.rounds,
                "hidden_from_children": [] if args.as_installed else list(cold_init.NOT_IN_LAMBDA_RUNTIME),
            },
            "cold_init": cold,
            "warm": warm,
            "aims": rows,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        progress(f"figures written to {args.json}")


if __name__ == "__main__":
    main()
