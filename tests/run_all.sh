#!/usr/bin/env bash
# Install everything the tests need, then run every test: lint, front end, Python, browser.
# Usage: bash tests/run_all.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# Browser tests drive Debian's chromium (Playwright never downloads a browser here).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: sudo apt-get install chromium" >&2
    exit 1
  fi
fi

# PyTorch's CPU build first, pinned to the one the machines hold (a plain "torch" would pull a
# CUDA build of several GB); the torch extra's range then installs nothing more.
python -m pip install -q "torch==2.13.0"
python -m pip install -q -e ".[test]"
npm ci --no-audit --no-fund --loglevel=error

# Offline by default: the data comes from a local copy laid out like ../shared.
export NEURON_GROUPS_DATA="${NEURON_GROUPS_DATA:-$(cd .. && pwd)/shared}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"

echo "== ruff"
python -m ruff check python tests benchmarks docs
echo "== front end (types, vitest)"
npm run --silent typecheck
npm test
echo "== python (pytest)"
python -m pytest "$@"
