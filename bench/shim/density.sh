#!/usr/bin/env bash
# Shim density: N sleeping containers under berth-shim (runtime berth) and under containerd's
# containerd-shim-runc-v2 (runtime runc), side by side in one run. Per shim: PSS (from
# /proc/<pid>/smaps_rollup, so shared pages are split between the shims, as smem counts them),
# RSS, threads, measured 15 s after the last start (SETTLE=seconds to change); and the start
# latency of a container.
#   bench/shim/density.sh [N]     (default 50; needs root, containerd, runc, busybox-static)
# Latency is not the same path on both sides: berth is `berth-shim start` + Create + Start over
# gRPC from a small client (what berthd does); containerd is `ctr run -d`, which adds ctr's own
# start-up and containerd's container bookkeeping. The memory numbers are like for like.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-50}
settle=${SETTLE:-15}  # seconds between the last start and the measurement, on both sides
build=${BUILD:-build}
shim=$(realpath "$build/shim/berth-shim")
berth=$(realpath "$build/runtime/berth")
client=$(realpath "$build/bench/berth-shim-bench")
for f in "$shim" "$berth" "$client"; do [[ -x $f ]] || { echo "build first (scripts/setup): $f" >&2; exit 1; }; done
command -v containerd >/dev/null && command -v ctr >/dev/null || { echo "containerd missing (scripts/setup)" >&2; exit 1; }

work=$(mktemp -d /tmp/berth-density.XXXXXX)
ctrd_pid=
cleanup() {
  set +e
  [[ -n ${bundles:-} ]] && "$client" down "$shim" "$berth" "$work/rt" "$work/s" "${bundles[@]}" >/dev/null 2>&1
  if [[ -n $ctrd_pid ]]; then
    for i in $(seq 1 "$n"); do
      ctr --address "$work/ctrd/c.sock" task kill -s KILL "d$i" >/dev/null 2>&1
    done
    sleep 1
    for i in $(seq 1 "$n"); do
      ctr --address "$work/ctrd/c.sock" task delete "d$i" >/dev/null 2>&1
      ctr --address "$work/ctrd/c.sock" container delete "d$i" >/dev/null 2>&1
    done
    kill "$ctrd_pid"; wait "$ctrd_pid" 2>/dev/null
  fi
  umount -R "$work"/ctrd/root/* 2>/dev/null
  rmdir /sys/fs/cgroup/*/berth-density/* /sys/fs/cgroup/*/berth-density 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

sync  # a just-linked binary's page-cache pages count as dirty until written back
# One read-only busybox rootfs shared by every container.
mkdir -p "$work/rootfs/bin" "$work/rootfs/proc" "$work/rootfs/dev" "$work/rootfs/sys" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/"
for a in sh sleep true; do ln -s busybox "$work/rootfs/bin/$a"; done
mkdir -p "$work/template"
"$berth" spec --bundle "$work/template"

# Sums PSS/RSS (KiB) and threads over the given pids: "pss rss threads".
measure() {
  local pss=0 rss=0 thr=0 p
  for p in "$@"; do
    pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
    rss=$((rss + $(awk '/^Rss:/ {print $2}' "/proc/$p/smaps_rollup")))
    thr=$((thr + $(awk '/^Threads:/ {print $2}' "/proc/$p/status")))
  done
  echo "$pss $rss $thr"
}

# --- berth-shim + berth ---
bundles=()
for i in $(seq 1 "$n"); do
  b="$work/b/b$i"
  mkdir -p "$b"
  jq --arg root "$work/rootfs" --arg cg "/berth-density/b$i" \
    '.process.terminal=false | .process.args=["sleep","100000"] | .root={"path":$root,"readonly":true} | .linux.cgroupsPath=$cg' \
    "$work/template/config.json" > "$b/config.json"
  bundles+=("$b")
done
"$client" up "$shim" "$berth" "$work/rt" "$work/s" "${bundles[@]}" > "$work/berth.txt"
sleep "$settle"  # steady state: what 50 sleeping containers cost once start-up is over
mapfile -t berth_pids < <(awk '{print $1}' "$work/berth.txt")
read -r b_pss b_rss b_thr < <(measure "${berth_pids[@]}")
b_lat=$(awk '{s+=$2} END {printf "%.1f", s/NR}' "$work/berth.txt")
"$client" down "$shim" "$berth" "$work/rt" "$work/s" "${bundles[@]}" >/dev/null 2>&1
bundles=

# --- containerd-shim-runc-v2 + runc ---
source scripts/lib/containerd.sh
start_containerd "$work/ctrd"
c_lat_sum=0
for i in $(seq 1 "$n"); do
  t0=$(date +%s%N)
  ctr --address "$work/ctrd/c.sock" run -d --rootfs --cgroup "/berth-density/d$i" "$work/rootfs" "d$i" /bin/sleep 100000 >/dev/null
  t1=$(date +%s%N)
  c_lat_sum=$((c_lat_sum + (t1 - t0) / 1000))
done
sleep "$settle"
mapfile -t ctrd_shims < <(pgrep -f "containerd-shim-runc-v2 .*-address $work/ctrd/c.sock")
read -r c_pss c_rss c_thr < <(measure "${ctrd_shims[@]}")
c_lat=$(awk -v s="$c_lat_sum" -v n="$n" 'BEGIN {printf "%.1f", s/n/1000}')

per() { awk -v a="$1" -v n="$2" 'BEGIN {printf "%.0f", a/n}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
nb=${#berth_pids[@]}; nc=${#ctrd_shims[@]}
printf "\n%d containers each; per shim:\n" "$n"
printf "%-26s %10s %10s %8s %14s\n" shim "PSS KiB" "RSS KiB" threads "start ms"
printf "%-26s %10s %10s %8s %14s\n" "berth-shim (berth)" "$(per "$b_pss" "$nb")" "$(per "$b_rss" "$nb")" "$(per "$b_thr" "$nb")" "$b_lat"
printf "%-26s %10s %10s %8s %14s\n" "containerd-shim-runc-v2" "$(per "$c_pss" "$nc")" "$(per "$c_rss" "$nc")" "$(per "$c_thr" "$nc")" "$c_lat"
printf "berth-shim / containerd-shim-runc-v2: PSS %sx  RSS %sx  threads %sx  start %sx\n" \
  "$(ratio "$(per "$b_pss" "$nb")" "$(per "$c_pss" "$nc")")" "$(ratio "$(per "$b_rss" "$nb")" "$(per "$c_rss" "$nc")")" \
  "$(ratio "$(per "$b_thr" "$nb")" "$(per "$c_thr" "$nc")")" "$(ratio "$b_lat" "$c_lat")"
