"""The ``chain`` command: check, run, compile and draw a chain file (JSON or YAML) from the command line.

``python -m tools.chain <validate|run|compile|graph|schema> ...``; see :mod:`tools.chain.cli`. A dev tool, never
deployed: it reads the runtime layer (``companion.chains``) and runs chains on the offline runner.
"""
