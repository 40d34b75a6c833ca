"""Install the library wheel into a fresh virtual environment outside the repository and use it there.

`make wheel-check` runs it after `make wheel`: the environment is a temporary directory, the wheel's dependencies come
from the package index, and the check runs with `python -I` from that directory, so nothing of the repository (its
layer folder, its .venv) can stand in for the installed library. Exit status 0 only when every check passed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Runs inside the fresh environment: the installed companion, not the repository's, encodes and decodes a Body.
PROBE = """
import importlib.metadata, json, pathlib, sys
import companion
from companion.chains import execution_input, load_chain
from companion.codec import NeutralRequest, Turn, decode, encode, encode_json, resolve_family
from companion.errors import UnknownModelFamilyError

assert pathlib.Path(sys.prefix) in pathlib.Path(companion.__file__).parents, companion.__file__
version = importlib.metadata.version("sfn-bedrock-companion-lib")
request = NeutralRequest(system="Be brief.", messages=[Turn(role="user", content="Say hello.")], max_tokens=20)
model = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
body = encode(request, model)
_, raw = encode_json(request, "amazon.nova-lite-v1:0")
answer = {"content": [{"type": "text", "text": "Hello."}], "stop_reason": "end_turn",
          "usage": {"input_tokens": 9, "output_tokens": 3}}
result = decode(answer, model)
assert (body["anthropic_version"], body["messages"][0]["content"]) == ("bedrock-2023-05-31", "Say hello."), body
assert json.loads(raw)["messages"][0]["content"] == [{"text": "Say hello."}], raw
assert (result.text, result.stop_reason, result.output_tokens) == ("Hello.", "end_turn", 3), result
try:
    resolve_family("openai.gpt-9")
except UnknownModelFamilyError:
    pass
else:
    raise AssertionError("an unknown family was accepted")
plan = execution_input(load_chain({"name": "probe", "steps": [{"name": "hi", "model_id": model, "prompt": "Hi"}]}), {})
assert plan["chain"] == "probe", plan
print(f"sfn-bedrock-companion-lib {version} from {companion.__file__}")
print(f"  encode: {resolve_family(model)} Body {json.dumps(body, separators=(',', ':'))}")
tokens = f"{result.input_tokens}+{result.output_tokens}"
print(f"  decode: text={result.text!r} stop_reason={result.stop_reason} tokens={tokens}")
print(f"  chains: execution_input -> {len(plan['plan'])} stage(s)")
"""


def _run(command: list[str], cwd: Path) -> None:
    print("$", " ".join("<probe>" if "\n" in part else part for part in command), flush=True)
    subprocess.run(command, cwd=cwd, check=True)  # noqa: S603  (commands built here from fixed parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path, help="the folder `make wheel` wrote the wheel to")
    parser.add_argument("--uv", default="uv", help="the uv executable that creates the environment")
    args = parser.parse_args(argv)
    version = tomllib.loads((HERE / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    wheel = (args.dist / f"sfn_bedrock_companion_lib-{version}-py3-none-any.whl").resolve()
    if not wheel.is_file():
        print(f"error: {wheel} not found: run `make wheel` first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="companion-lib-check-") as scratch:
        where = Path(scratch)
        python = where / "venv" / "bin" / "python"
        _run([args.uv, "venv", "--quiet", "--python", sys.executable, str(where / "venv")], where)
        _run([args.uv, "pip", "install", "--quiet", "--python", str(python), str(wheel)], where)
        _run([str(python), "-I", "-c", PROBE], where)
    print("wheel check: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
