#!/usr/bin/env bash
# Runs a command with the Lambda runtime's interpreter (python3.13) on PATH: `sam build` needs it to build without
# Docker, and `make test-runtime` runs the unit tests on it. Under pyenv an installed 3.13 is not on PATH until it is named in PYENV_VERSION.
set -euo pipefail
if python3.13 --version >/dev/null 2>&1; then
  exec "$@"
fi
if command -v pyenv >/dev/null 2>&1; then
  runtime=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.13\.[0-9]+$' | tail -n 1 || true)
  if [ -n "$runtime" ]; then
    PYENV_VERSION="$(pyenv version-name 2>/dev/null | tr -d '\n'):${runtime}"
    export PYENV_VERSION
    exec "$@"
  fi
fi
echo "error: python3.13 (the functions' runtime) is not on PATH: install it (sam build could use --use-container instead)" >&2
exit 1
