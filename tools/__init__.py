"""Developer tooling (never deployed): the offline demo and helpers shared with tests and benchmarks."""
