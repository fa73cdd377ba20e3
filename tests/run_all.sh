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

# PyTorch and torchvision first, pinned to the releases these machines hold on disk (a plain
# "torch" would download a CUDA build of several GB). torchvision has no CPU wheel on PyPI for
# x86_64 and PyPI's torchvision does not load beside the CPU-only torch 2.13.0 on disk, so on
# x86_64 the pair is the CUDA build on disk (it runs on the CPU; about 2 min to install); on
# aarch64 PyPI's builds are CPU builds. The extras' ranges then install nothing more.
case "$(uname -m)" in
  aarch64 | arm64) python -m pip install -q "torch==2.9.1" "torchvision==0.24.1" ;;
  *) python -m pip install -q "torch==2.14.1" "torchvision==0.29.1" ;;
esac
python -m pip install -q -e ".[test]"
# jsonschema's optional IRI check (rfc3987-syntax, pulled in by Jupyter's jupyter-events) builds
# a parser grammar at import: about 4 s in every process that imports jsonschema, Ray's
# dashboard agent among them, which then misses the raylet's fixed 15 s start-up window on a
# loaded 2-core machine ("node timed out during startup"). Without it, jsonschema skips that
# one format check.
python -m pip uninstall -q -y rfc3987-syntax 2>/dev/null || true
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
