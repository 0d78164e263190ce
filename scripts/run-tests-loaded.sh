#!/usr/bin/env bash
# Shows that the test suite passes on a busy machine: keeps every CPU busy with another process and runs
# `bash scripts/run-tests.sh` three times in a row, printing each run's counts and duration.
#   bash scripts/run-tests-loaded.sh [pytest arguments]        (RUNS=3 and LOAD=<number of CPUs> by default)
# Exits non-zero when any run fails.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${RUNS:-3}
load=${LOAD:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
logs=$(mktemp -d)
burners=()

stop_load() {
  local pid
  for pid in "${burners[@]}"; do
    kill "$pid" 2>/dev/null
  done
  for pid in "${burners[@]}"; do
    wait "$pid" 2>/dev/null
  done
  burners=()
}
trap 'stop_load; rm -rf "$logs"' EXIT
trap 'exit 130' INT TERM

# Set up once before the load starts (the runs below then find .venv ready).
PROVET_XERO_SETUP_EXTRAS=test bash scripts/setup.sh || exit 1

for _ in $(seq "$load"); do
  yes >/dev/null &
  burners+=($!)
done
echo "load: $load busy processes (${burners[*]}) on $(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs"

failed=0
summary=()
for run in $(seq "$runs"); do
  log="$logs/run-$run.log"
  start=$(date +%s)
  bash scripts/run-tests.sh "$@" >"$log" 2>&1
  status=$?
  took=$(( $(date +%s) - start ))
  # pytest's last line, e.g. "=== 600 passed, 3 skipped in 301.2s ===" (-q: without the = signs)
  counts=$(grep -E '(passed|failed|errors?|no tests ran|skipped).* in [0-9.]+s' "$log" | tail -1 |
    sed -E 's/^=+ //; s/ =+$//')
  [ -n "$counts" ] || counts="no pytest summary (see below)"
  line="run $run: exit $status, $counts, $((took / 60))m$((took % 60))s"
  echo "$line"
  summary+=("$line")
  if [ "$status" -ne 0 ]; then
    failed=1
    grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/  /'
    echo "  last lines of run $run:"
    tail -n 30 "$log" | sed 's/^/  | /'
  fi
done
stop_load

echo
echo "summary ($runs runs with $load busy processes):"
printf '  %s\n' "${summary[@]}"
exit "$failed"
