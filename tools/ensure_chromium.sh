#!/usr/bin/env bash
# Installs Debian's chromium when it is missing: the browser test of the offline runner's HTML execution graph
# drives it (playwright cannot download a browser of its own here). Idempotent; a no-op when it is installed.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [[ -x "$CHROMIUM" ]]; then
    exit 0
fi
if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "tools/ensure_chromium.sh: $CHROMIUM is missing and this user cannot install it (no root, no sudo);" \
        "the browser test will be skipped" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq chromium >/dev/null
"$CHROMIUM" --version
