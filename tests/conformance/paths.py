"""Where the conformance cases find the repository and their sample machines."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).parent / "samples"
