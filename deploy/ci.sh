#!/usr/bin/env bash
# Deploy checks run by .ci/run after the test suite (which already lints the
# Dockerfile with hadolint, lints and renders the Helm chart with Helm's Go
# SDK and validates every object against the Kubernetes schemas):
#   1. checkov security scan of the rendered chart and of the Dockerfile;
#   2. the image's build stage without Docker: a clean venv gets ".[all]"
#      from wheels only, as deploy/Dockerfile does, and every console script
#      in pyproject.toml must answer --help from it (so no runtime import
#      hides in a dev-only dependency, and package data is in the wheel).
# Needs .venv (make lint or make test builds it). checkov gets a venv of its
# own under .venv/, as it pins many packages of its own.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
CHECKOV_VENV=.venv/checkov
CHECKOV_REQUIREMENT="checkov>=3.2,<4"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
started=$SECONDS

if [ ! -x "$CHECKOV_VENV/bin/checkov" ]; then
    python3 -m venv "$CHECKOV_VENV"
    "$CHECKOV_VENV/bin/pip" install --quiet --disable-pip-version-check \
        "$CHECKOV_REQUIREMENT"
fi

echo "== checkov: rendered Helm chart, Dockerfile"
"$PY" deploy/helm/render.py "$work/chart"
"$CHECKOV_VENV/bin/checkov" --config-file deploy/checkov.yaml \
    --framework kubernetes -d "$work/chart"
"$CHECKOV_VENV/bin/checkov" --config-file deploy/checkov.yaml \
    --framework dockerfile -f deploy/Dockerfile

echo "== image build stage, without Docker"
python3 -m venv "$work/image"
PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ONLY_BINARY=:all: \
    "$work/image/bin/pip" install --quiet --no-binary jarvice-tools ".[all]"
commands=$("$PY" -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["scripts"])')
for command in $commands; do
    (cd "$work" && "$work/image/bin/$command" --help >/dev/null)
    echo "$command --help: ok"
done

echo "deploy checks passed in $((SECONDS - started)) s"
