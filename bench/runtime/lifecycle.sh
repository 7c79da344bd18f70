#!/usr/bin/env bash
# Side-by-side runtime benchmark: berth vs runc vs crun (Debian packages), in one run.
#   bench/runtime/lifecycle.sh [runs]     (BERTH_BENCH_ROUNDS: how many turns the runs are split into; 5)
# Measures, for each runtime, on the same busybox-static bundle:
#   - `run` of /bin/true (create + start + wait + delete) wall time, via hyperfine (mean and median
#     of all runs), and its CPU time
#     (user + system of the runtime and its children: steadier than wall time on a loaded machine)
#   - create+start+delete of a sleeping container (the path a shim takes), via hyperfine
#   - peak RSS of the runtime process during `run`
# (ociVersion 1.0.2: crun 1.8.1 refuses the 1.3.0 that `berth spec` writes)
# and prints ratios against runc and crun. Needs root. All three run inside one private mount
# namespace with a tmpfs over /sys/fs/cgroup/unified, because crun 1.8.1 refuses this hybrid host;
# that makes the host look v1-only to all three alike. Their state roots are on a tmpfs, as their
# defaults (/run/berth, /run/runc, /run/crun) are.
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-40}
berth=$(realpath "${BERTH:-build/runtime/berth}")
[[ -x $berth ]] || { echo "build berth first (scripts/setup)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine missing (scripts/setup installs it)" >&2; exit 1; }

if [[ "${BERTH_BENCH_INNER:-}" != 1 ]]; then
  exec unshare -m env BERTH_BENCH_INNER=1 BERTH="$berth" bash -c \
    'mount --make-rprivate / && mount -t tmpfs tmpfs /sys/fs/cgroup/unified && exec "$0" "$@"' "$0" "$@"
fi

work=$(mktemp -d /tmp/berth-bench.XXXXXX)
mkdir "$work/roots" && mount -t tmpfs -o mode=0700 berth-bench-roots "$work/roots"
cleanup() {
  for r in "${!paths[@]}"; do "${paths[$r]}" --root "$work/roots/$r" delete -f bench-sleep >/dev/null 2>&1 || true; done
  rmdir /sys/fs/cgroup/*/berth-bench 2>/dev/null || true  # the shared parent of the containers' cgroups
  umount "$work/roots" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/bundle/rootfs/bin"
cp /bin/busybox "$work/bundle/rootfs/bin/"
for a in sh true sleep; do ln -s busybox "$work/bundle/rootfs/bin/$a"; done
"$berth" spec --bundle "$work/bundle"
jq '.ociVersion="1.0.2" | .process.terminal=false | .process.args=["true"] | .linux.cgroupsPath="/berth-bench/c"' \
  "$work/bundle/config.json" > "$work/c.json" && mv "$work/c.json" "$work/bundle/config.json"
cp -r "$work/bundle" "$work/sleep-bundle"
jq '.process.args=["sleep","1000"]' "$work/bundle/config.json" > "$work/sleep-bundle/config.json"

declare -A paths=([berth]=$berth [runc]=$(command -v runc) [crun]=$(command -v crun))
order=(berth runc crun)

# The runtimes take turns, a round of each at a time, so that a slow spell of the (shared, virtual)
# host lands on all three alike instead of on whichever ran during it. Means are over all rounds.
rounds=${BERTH_BENCH_ROUNDS:-5}
per_round=$(( (runs + rounds - 1) / rounds ))
declare -A run_ms run_cpu_ms cycle_ms rss_kb
add() { python3 -c "print(${1:-0} + $2)"; }
for ((round = 1; round <= rounds; round++)); do
  for r in "${order[@]}"; do
    rt=${paths[$r]}
    root="$work/roots/$r"
    hyperfine -N --runs "$per_round" --warmup 2 --export-json "$work/run-$r.json" \
      "$rt --root $root run --bundle $work/bundle bench-true" >/dev/null
    run_ms[$r]=$(add "${run_ms[$r]:-}" "$(jq ".results[0].mean * 1000 / $rounds" "$work/run-$r.json")")
    jq -r '.results[0].times[]' "$work/run-$r.json" >> "$work/run-times-$r"
    run_cpu_ms[$r]=$(add "${run_cpu_ms[$r]:-}" "$(jq "(.results[0].user + .results[0].system) * 1000 / $rounds" "$work/run-$r.json")")
    hyperfine --runs "$per_round" --warmup 2 --export-json "$work/cycle-$r.json" \
      "$rt --root $root create --bundle $work/sleep-bundle bench-sleep </dev/null >/dev/null 2>&1 && $rt --root $root start bench-sleep && $rt --root $root delete -f bench-sleep" >/dev/null
    cycle_ms[$r]=$(add "${cycle_ms[$r]:-}" "$(jq ".results[0].mean * 1000 / $rounds" "$work/cycle-$r.json")")
  done
done
# The median of every `run` too: this shared VM has spells where one run takes twice as long,
# which move a mean more than a median.
declare -A run_median_ms
for r in "${order[@]}"; do
  run_median_ms[$r]=$(python3 -c "import statistics; print(statistics.median(float(l) for l in open('$work/run-times-$r')) * 1000)")
done
for r in "${order[@]}"; do
  # GNU time's own fork child is tiny, so %M is the runtime's peak (the largest of its waited-for
  # processes, which here is the runtime itself).
  rss_kb[$r]=$( { /usr/bin/time -f "%M" "${paths[$r]}" --root "$work/roots/$r" run --bundle "$work/bundle" bench-rss >/dev/null; } 2>&1 | tail -1)
done

printf "\n%-8s %14s %12s %14s %22s %14s\n" runtime "run true (ms)" "(median)" "run CPU (ms)" "create+start+delete" "peak RSS (KiB)"
for r in "${order[@]}"; do
  printf "%-8s %14.2f %12.2f %14.2f %22.2f %14d\n" "$r" "${run_ms[$r]}" "${run_median_ms[$r]}" "${run_cpu_ms[$r]}" \
    "${cycle_ms[$r]}" "${rss_kb[$r]}"
done
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
echo
for peer in runc crun; do
  echo "berth / $peer: run $(ratio "${run_ms[berth]}" "${run_ms[$peer]}") (median $(ratio "${run_median_ms[berth]}" "${run_median_ms[$peer]}")), run CPU $(ratio "${run_cpu_ms[berth]}" "${run_cpu_ms[$peer]}"), create+start+delete $(ratio "${cycle_ms[berth]}" "${cycle_ms[$peer]}"), peak RSS $(ratio "${rss_kb[berth]}" "${rss_kb[$peer]}")"
done
echo "(load $(cut -d' ' -f1-3 /proc/loadavg); kernel $(uname -r); runc $(runc --version | head -1 | awk '{print $3}'); crun $(crun --version | head -1 | awk '{print $3}'); $rounds rounds of $per_round runs each)"
