#!/usr/bin/env bash
# Proves the runner installs and works on its own: a fresh virtual environment OUTSIDE the repository, the package
# installed from its folder, then `run`, `invoke` and `api` on the fixture project hello-project (not this
# repository's project), with no PYTHONPATH. Usage: check_install.sh UV [PYTHON]
set -euo pipefail

uv=${1:?usage: check_install.sh UV [PYTHON]}
python=${2:-3.11}
package=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
server=""
cleanup() {
    if [[ -n "$server" ]]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
unset PYTHONPATH VIRTUAL_ENV
started=$SECONDS

"$uv" venv --quiet --python "$python" "$work/venv"
"$uv" pip install --quiet --python "$work/venv/bin/python" "$package"
cp -R "$package/tests/fixtures/hello-project" "$work/project"
cd "$work/project"
bin="$work/venv/bin"
echo "installed sfn-offline-runner into a fresh venv in $((SECONDS - started)) s ($(du -sm "$work/venv" | cut -f1) MB)"

"$bin/sfn-offline" run GreetStateMachine --input events/input.json --json >"$work/run.json" 2>/dev/null
grep -q '"status": "SUCCEEDED"' "$work/run.json" || { cat "$work/run.json"; exit 1; }
grep -q 'Hello, Ada!' "$work/run.json" || { cat "$work/run.json"; exit 1; }
echo "run GreetStateMachine: SUCCEEDED"

"$bin/sfn-offline" invoke HelloFunction --event events/hello.json >"$work/invoke.json" 2>/dev/null
grep -q 'Hello, Ada!' "$work/invoke.json" || { cat "$work/invoke.json"; exit 1; }
echo "invoke HelloFunction: answered"

"$bin/sfn-offline" api --port 0 >"$work/api.out" 2>"$work/api.err" &
server=$!
for _ in $(seq 1 300); do
    grep -q '^Serving on' "$work/api.out" 2>/dev/null && break
    sleep 0.1
done
address=$(sed -n 's/^Serving on \(http:[^ ]*\).*/\1/p' "$work/api.out")
[[ -n "$address" ]] || { cat "$work/api.out" "$work/api.err"; exit 1; }
curl -sf "$address/hello/Ada" | grep -q 'Hello, Ada!' || { cat "$work/api.err"; exit 1; }
echo "api GET /hello/Ada: answered"
echo "install check passed in $((SECONDS - started)) s"
