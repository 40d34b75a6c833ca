"""The fuzz tier's full run: ``python -m tests.fuzz.run`` (``make fuzz``) prints per function the events, the named
errors, the unhandled exceptions and the hangs, then the first example of each unhandled kind; exit status 1 when
anything was unhandled or hung.

    python -m tests.fuzz.run --events-per-function 1100 --seed 1
    python -m tests.fuzz.run --replay PostprocessResultFunction:1:17     # one event, in-process, with its outcome
"""

from __future__ import annotations

import argparse
import sys
import time

from tests.fuzz.events import FUNCTIONS
from tests.fuzz.harness import DEFAULT_DEADLINE_SECONDS, fuzz, replay


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events-per-function", type=int, default=1100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE_SECONDS, help="seconds before a hang")
    parser.add_argument("--function", action="append", choices=FUNCTIONS, help="only these (repeatable)")
    parser.add_argument("--replay", metavar="FUNCTION:SEED:INDEX")
    args = parser.parse_args(argv)
    if args.replay:
        function, seed, index = args.replay.split(":")
        print(replay(function, int(seed), int(index)))
        return 0
    started = time.monotonic()
    tallies = fuzz(args.events_per_function, seed=args.seed, functions=args.function, deadline=args.deadline)
    elapsed = time.monotonic() - started
    print(f"{'function':<28}{'events':>8}{'ok':>8}{'named':>8}{'unhandled':>11}{'hangs':>7}")
    for name, tally in tallies.items():
        print(
            f"{name:<28}{tally.events:>8}{tally.outcomes['ok']:>8}{tally.outcomes['named']:>8}"
            f"{tally.outcomes['unhandled']:>11}{tally.outcomes['hang']:>7}"
        )
    total = sum(t.events for t in tallies.values())
    bad = sum(t.outcomes["unhandled"] + t.outcomes["hang"] for t in tallies.values())
    print(f"{'total':<28}{total:>8}   unhandled or hung: {bad}   ({elapsed:.0f} s, seed {args.seed})")
    for name, tally in tallies.items():
        if tally.named:
            print(f"{name} named: " + ", ".join(f"{k} {v}" for k, v in tally.named.most_common()))
    for name, tally in tallies.items():
        for kind, count in tally.unhandled.most_common():
            print(f"UNHANDLED {name} {kind} x{count}: {tally.examples[kind]}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
