#!/usr/bin/env bash
# Runs a command with the Lambda runtime's interpreter (python3.13) on PATH, which `sam build` needs to build
# without Docker. Under pyenv an installed 3.13 is not on PATH until it is named in PYENV_VERSION.
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
echo "error: sam build needs python3.13 on PATH (the functions' runtime); install it or use 'sam build --use-container'" >&2
exit 1
