#!/usr/bin/env bash
# CTest gate: runs every case against berth and runc and fails when a requirement passes on runc
# but fails on berth, unless it is listed in known-berth-gaps.txt.  Usage: gate.sh RUNNER BERTH
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
runner=$1 berth=$2
[[ $(id -u) == 0 ]] || { echo "needs root" >&2; exit 77; }
runc=$(command -v runc || true)
[[ -n $runc ]] || { echo "runc not installed" >&2; exit 77; }
[[ -x /bin/busybox ]] || { echo "needs /bin/busybox (busybox-static)" >&2; exit 77; }
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$runner" --runtime "berth=$berth" --runtime "runc=$runc" --format json >"$out"
jq -r '.runtimes[] | "\(.name): pass \(.totals.pass) fail \(.totals.fail) skip \(.totals.skip)"' "$out"
known=$( (grep -v '^#' "$here/known-berth-gaps.txt" || true) | awk 'NF {print $1}' | sort -u)  # may be empty
gaps=$(jq -r '.requirements[] | select(.results.runc.verdict == "pass" and .results.berth.verdict == "fail") | .id' "$out" | sort -u)
new=$(comm -23 <(echo "$gaps") <(echo "$known") | grep . || true)
fixed=$(comm -13 <(echo "$gaps") <(echo "$known") | grep . || true)
[[ -z $fixed ]] || { echo "known gaps berth no longer has (remove them from known-berth-gaps.txt):"; echo "$fixed"; }
if [[ -n $new ]]; then
  echo "requirements that pass on runc but fail on berth:"
  for id in $new; do
    jq -r --arg id "$id" '.requirements[] | select(.id == $id) | "  \(.id) (\(.spec)): \(.results.berth.detail // "")"' "$out"
  done
  exit 1
fi
echo "no requirement passes on runc and fails on berth (apart from $(echo "$known" | grep -c .) known gaps)"
