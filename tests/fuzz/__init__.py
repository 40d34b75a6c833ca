"""Fuzz tier: hostile events against every function, each run in a worker with a deadline (see run.py)."""
