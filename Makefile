# The one command surface: the README and CI call these targets and nothing else.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

UV_VERSION := 0.13.8
# uv from PATH when present, else a private copy under .tools/ (nothing is installed globally).
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --locked
PY_SOURCES := layers functions tests tools benchmarks offline-runner

.PHONY: help setup demo run check lint typecheck test test-runtime runner-install sam-validate cfn-lint sam-build bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet uv==$(UV_VERSION)

setup: $(UV)  ## install the locked dependencies into .venv
	$(UV) sync --locked

demo: setup  ## run the main job offline: the three Lambdas on the sample events, S3 emulated
	PYTHONPATH=layers/runtime:functions $(RUN) python -m tools.demo

check: setup lint typecheck test test-runtime runner-install sam-validate cfn-lint sam-build  ## every check CI runs

lint:  ## ruff lint and format check
	$(RUN) ruff check $(PY_SOURCES)
	$(RUN) ruff format --check $(PY_SOURCES)

typecheck:  ## mypy (strict) on the runtime code and the handlers
	$(RUN) mypy layers/runtime/companion functions

test:  ## pytest: the project's tests, then the offline runner's own (deployed-stack tests skip without a stack)
	$(RUN) pytest
	$(RUN) pytest -c offline-runner/pyproject.toml offline-runner/tests

test-runtime:  ## the unit tests again on the Lambda runtime's Python (3.13), in .venv-py313
	UV_PROJECT_ENVIRONMENT=.venv-py313 tools/with_runtime_python.sh $(RUN) --python 3.13 pytest tests/unit -q

runner-install:  ## install the offline runner into a fresh venv outside the repo; run, invoke, api on its fixture
	offline-runner/scripts/check_install.sh $(UV)

run: setup  ## the offline runner's command, e.g. make run ARGS="run PromptChainStateMachine --event ..."
	$(RUN) sfn-offline $(ARGS)

sam-validate:  ## SAM's own validation with its linter
	$(RUN) sam validate --lint --region us-east-1

cfn-lint:  ## cfn-lint on the template
	$(RUN) cfn-lint template.yaml

sam-build:  ## sam build without Docker (needs python3.13; see tools/with_runtime_python.sh)
	tools/with_runtime_python.sh $(RUN) sam build --parallel --cached

bench:  ## benchmarks (printed figures): the Lambdas' overhead, the offline runner's speed, a chain's cost
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/lambda_overhead.py
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/offline_runner.py
	$(RUN) python offline-runner/benchmarks/startup.py
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/chain_cost.py
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/batch_summary.py
	PYTHONPATH=layers/runtime:functions $(RUN) python benchmarks/dataset_validation.py

clean:  ## remove build output and caches
	rm -rf .aws-sam .venv-py313 .pytest_cache .mypy_cache .ruff_cache .hypothesis
