"""The fuzz tier's fixed-seed slice: every function, hostile events, each with a deadline; nothing unhandled or hung.

The full run (more than 10,000 events) is ``make fuzz``; this slice keeps ``make check`` quick.
"""

from __future__ import annotations

from tests.fuzz.events import FUNCTIONS
from tests.fuzz.harness import fuzz

SLICE_EVENTS_PER_FUNCTION = 25
SLICE_SEED = 20261207


def test_a_fixed_seed_slice_of_hostile_events_gets_only_results_and_named_errors() -> None:
    # Given the same hostile events every run (fixed seed), for each of the ten functions
    # When each runs in the worker with a 5-second deadline
    tallies = fuzz(SLICE_EVENTS_PER_FUNCTION, seed=SLICE_SEED)
    # Then every event ended in a result or a named error: no other exception, no 5xx or leak, no hang
    failures = {name: dict(tally.unhandled) for name, tally in tallies.items() if tally.unhandled}
    examples = [example for tally in tallies.values() for example in tally.examples.values()]
    assert failures == {}, examples
    assert set(tallies) == set(FUNCTIONS)
    assert all(tally.events == SLICE_EVENTS_PER_FUNCTION for tally in tallies.values())
    # And the slice reaches past the outer validation: errors of several kinds, and some results
    assert sum(tally.outcomes["ok"] for tally in tallies.values()) > 0
    assert len({name for tally in tallies.values() for name in tally.named}) >= 8
