# The one command surface: the README and CI call these targets and nothing else.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

UV_VERSION := 0.13.8
# checkov pins boto3 to an old release, so it runs in its own environment (uv tool run), not in .venv.
CHECKOV_VERSION := 3.3.30
# uv from PATH when present, else a private copy under .tools/ (nothing is installed globally).
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --locked
PY_SOURCES := layers functions tests tools benchmarks packages offline-runner
# Bytecode caches in one folder outside the sources, written even where the environment sets PYTHONDONTWRITEBYTECODE:
# without them each Python process of make check (pytest workers, the CLI tests' subprocesses, the fuzz workers, sam,
# cfn-lint) compiles every module it imports again, about a second each.
export PYTHONPYCACHEPREFIX := $(CURDIR)/.pycache
unexport PYTHONDONTWRITEBYTECODE

.PHONY: help setup generate demo run check lint typecheck test test-project test-runner runtime-checks test-runtime runner-install sam-validate cfn-lint sam-build build wheel wheel-check \
	deploy changeset smoke asl-retries generate-schema chromium screenshot checkov fuzz bench clean

# Deployment environment: a samconfig.toml environment (dev or prod).
ENV ?= dev
# Deployed stack for `make smoke`; INVOKE_MODELS=1 adds the one run that calls a model.
STACK ?=
INVOKE_MODELS ?=

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet uv==$(UV_VERSION)

setup: $(UV)  ## install the locked dependencies into .venv
	$(UV) sync --locked

demo: setup  ## run the main job offline: the three Lambdas on the sample events, S3 emulated
	PYTHONPATH=layers/runtime:functions $(RUN) python -m tools.demo

# The checks after setup, longest first. `make check` runs three at a time: the project's tests on two workers, and
# beside them two of the single-process checks, which are about as much work in all as the tests and would otherwise
# queue behind one another. Each check's output is printed whole when it ends; make check fails if any check fails
# (after all have run).
CHECKS := test-project runtime-checks test-runner checkov runner-install typecheck cfn-lint wheel-check lint
CHECK_JOBS ?= 3
check: setup chromium  ## every check CI runs
	$(MAKE) --no-print-directory --jobs=$(CHECK_JOBS) --output-sync=target --keep-going $(CHECKS)

lint:  ## ruff lint and format check, and the layer's import contracts (pyproject.toml [tool.importlinter])
	$(RUN) ruff check $(PY_SOURCES)
	$(RUN) ruff format --check $(PY_SOURCES)
	PYTHONPATH=layers/runtime:functions $(RUN) lint-imports --no-cache

typecheck:  ## mypy (strict) on the runtime code, the handlers, the offline runner and the project's tools
	$(RUN) mypy layers/runtime/companion functions offline-runner/src/sfn_offline tools

test: test-project test-runner  ## pytest: the project's tests, then the offline runner's own

# pytest-xdist workers; one test module per worker (--dist loadfile): modules share fixtures between their tests.
TEST_WORKERS ?= 2
test-project:  ## the project's tests on TEST_WORKERS processes (deployed-stack tests skip without a stack)
	$(RUN) pytest --numprocesses=$(TEST_WORKERS) --dist=loadfile

test-runner:  ## the offline runner's own tests
	$(RUN) pytest -c offline-runner/pyproject.toml offline-runner/tests

test-runtime:  ## the unit tests again on the Lambda runtime's Python (3.13), in .venv-py313
	UV_PROJECT_ENVIRONMENT=.venv-py313 tools/with_runtime_python.sh $(RUN) --python 3.13 pytest tests/unit -q

# sam build waits for the unit tests on 3.13 (both set up the runtime's interpreter: tools/with_runtime_python.sh)
# and for sam validate (both use SAM CLI's settings folder), so that it never runs beside either.
runtime-checks: test-runtime sam-validate
	$(MAKE) --no-print-directory sam-build

runner-install:  ## install the offline runner into a fresh venv outside the repo; run, invoke, api on its fixture
	offline-runner/scripts/check_install.sh $(UV)

run: setup  ## the offline runner's command, e.g. make run ARGS="run PromptChainStateMachine --event ..."
	$(RUN) sfn-offline $(ARGS)

sam-validate:  ## SAM's own validation with its linter
	$(RUN) sam validate --lint --region us-east-1

cfn-lint:  ## cfn-lint on the template
	$(RUN) cfn-lint template.yaml

checkov:  ## checkov on the template; each skipped check is justified in .checkov.yaml
	$(UV) tool run --from checkov==$(CHECKOV_VERSION) checkov --config-file .checkov.yaml

sam-build:  ## sam build without Docker (needs python3.13; see tools/with_runtime_python.sh)
	tools/with_runtime_python.sh $(RUN) sam build --parallel --cached

build: sam-build wheel  ## the SAM application (.aws-sam/build) and the companion library wheel (dist/)

wheel: setup  ## the layer's library as a wheel of its own (packages/companion-lib) into dist/
	$(UV) build --wheel --out-dir dist packages/companion-lib

wheel-check: wheel  ## install the wheel into a fresh venv outside the repo and encode and decode a Body with it
	$(RUN) python packages/companion-lib/check_wheel.py dist --uv $(UV)

deploy: setup sam-build  ## build, then deploy ENV=dev|prod with samconfig.toml, no prompts (review first: make changeset)
	@case "$(ENV)" in dev|prod) ;; *) echo "make deploy: ENV must be dev or prod, not '$(ENV)'" >&2; exit 2;; esac
	$(RUN) sam deploy --config-env $(ENV) --no-confirm-changeset

changeset: setup sam-build  ## build, then create ENV's change set without executing it (to review it first)
	@case "$(ENV)" in dev|prod) ;; *) echo "make changeset: ENV must be dev or prod, not '$(ENV)'" >&2; exit 2;; esac
	$(RUN) sam deploy --config-env $(ENV) --no-execute-changeset

smoke:  ## the no-cost checks of a deployed stack: make smoke STACK=<name> [INVOKE_MODELS=1]
	@if [ -z "$(STACK)" ]; then \
	  echo "smoke: SKIPPED: no deployed stack named (make smoke STACK=<stack name>, with AWS credentials); nothing was called"; \
	else \
	  $(MAKE) --no-print-directory setup >/dev/null && \
	  COMPANION_STACK_NAME="$(STACK)" COMPANION_INVOKE_MODELS="$(INVOKE_MODELS)" \
	    $(RUN) pytest tests/deployed -m deployed -q -rs -p no:randomly; \
	fi

asl-retries: setup  ## copy the named retry policies (companion.retry_policies) into the YAML machines' Retry blocks
	PYTHONPATH=layers/runtime $(RUN) python -m tools.asl_retries

bench:  ## benchmarks (printed figures): the Lambdas' overhead, the offline runner's speed, a chain's cost
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/lambda_overhead.py
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/offline_runner.py
	$(RUN) python offline-runner/benchmarks/startup.py
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/chain_cost.py
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/chain_map_scale.py
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/batch_summary.py
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/dataset_validation.py
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/execution_graph.py

chromium:  ## install Debian's chromium when missing (the browser test of the HTML execution graph drives it)
	tools/ensure_chromium.sh

screenshot: setup chromium  ## regenerate docs/execution-graph.png (the README's picture of the HTML execution graph)
	PYTHONPATH=layers/runtime:functions $(RUN) python -m tools.execution_graph_screenshot

generate-schema: setup  ## regenerate schemas/chain.schema.json (chain files' JSON Schema) from the chain model
	$(RUN) python -m tools.chain schema > schemas/chain.schema.json.tmp
	mv schemas/chain.schema.json.tmp schemas/chain.schema.json

generate: setup generate-schema asl-retries  ## regenerate every generated file: chain machines + template block, schema, retries
	PYTHONPATH=layers/runtime:functions $(RUN) python -m tools.generate_chains

fuzz:  ## the fuzz tier's full run: 11,000 hostile events across the ten functions, figures per function
	PYTHONPATH=layers/runtime:functions $(RUN) python -m tests.fuzz.run --events-per-function 1100 --seed 1

clean:  ## remove build output and caches
	rm -rf .aws-sam dist .venv-py313 .pytest_cache .mypy_cache .ruff_cache .hypothesis .pycache
