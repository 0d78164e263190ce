#!/usr/bin/env bash
# Sets everything up and runs the main job: bash scripts/run-demo.sh [arguments for provet-xero demo]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/provet-xero status "$@"
