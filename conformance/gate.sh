#!/usr/bin/env bash
# CTest gate: runs every case against berth and runc and fails when a requirement passes on runc
# but fails on berth. Usage: gate.sh RUNNER BERTH
set -euo pipefail
runner=$1 berth=$2
[[ $(id -u) == 0 ]] || { echo "needs root" >&2; exit 77; }
runc=$(command -v runc || true)
[[ -n $runc ]] || { echo "runc not installed" >&2; exit 77; }
[[ -x /bin/busybox ]] || { echo "needs /bin/busybox (busybox-static)" >&2; exit 77; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$runner" --runtime "berth=$berth" --runtime "runc=$runc" --format json >"$out"
jq -r '.runtimes[] | "\(.name): pass \(.totals.pass) fail \(.totals.fail) skip \(.totals.skip)"' "$out"
regressions=$(jq -r '.requirements[]
  | select(.results.runc.verdict == "pass" and .results.berth.verdict == "fail")
  | "\(.id) (\(.spec)): \(.results.berth.detail // "")"' "$out")
if [[ -n $regressions ]]; then
  echo "requirements that pass on runc but fail on berth:"
  echo "$regressions"
  exit 1
fi
echo "no requirement passes on runc and fails on berth"
