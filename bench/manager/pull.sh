#!/bin/bash
# Pull + unpack from a local docker-registry: berthd (berthctl pull) vs containerd (ctr images pull)
# vs skopeo (fetch only, no unpack). Fresh stores for every run; prints medians and ratios.
#
#   bench/manager/pull.sh [BUILD_DIR] [RUNS]      (root; env LAYERS=5 LAYER_MB=50 for the big image)
set -euo pipefail
BUILD=${1:-build}
RUNS=${2:-3}
LAYERS=${LAYERS:-5}
LAYER_MB=${LAYER_MB:-50}
BERTHD=$(realpath "$BUILD/manager/berthd")
BERTHCTL=$(realpath "$BUILD/cli/berthctl")
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }

WORK=$(mktemp -d /var/tmp/berth-bench-pull.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  umount -R "$WORK"/ctrd-root-* 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.4f\n", b - a}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
work=$WORK
source "$(dirname "$0")/../../scripts/lib/busybox_registry.sh"
source "$(dirname "$0")/../../scripts/lib/containerd.sh"

# --- registry -------------------------------------------------------------------------------
start_registry
PIDS+=("$registry_pid")
REG=$registry

# --- images: busybox, and LAYERS layers of LAYER_MB incompressible data ----------------------
echo "building images (busybox; ${LAYERS}x${LAYER_MB} MiB)..." >&2
umoci init --layout "$WORK/oci"
umoci new --image "$WORK/oci:busybox"
umoci unpack --rootless --image "$WORK/oci:busybox" "$WORK/bundle" >/dev/null
mkdir -p "$WORK/bundle/rootfs/bin" && cp /bin/busybox "$WORK/bundle/rootfs/bin/busybox"
ln -sf busybox "$WORK/bundle/rootfs/bin/sh"
umoci repack --image "$WORK/oci:busybox" "$WORK/bundle"
rm -rf "$WORK/bundle"
umoci tag --image "$WORK/oci:busybox" big
for i in $(seq "$LAYERS"); do
  umoci unpack --rootless --image "$WORK/oci:big" "$WORK/bundle" >/dev/null
  head -c $((LAYER_MB << 20)) /dev/urandom > "$WORK/bundle/rootfs/data$i"
  umoci repack --image "$WORK/oci:big" "$WORK/bundle"
  rm -rf "$WORK/bundle"
done
for tag in busybox big; do
  skopeo copy --quiet --dest-tls-verify=false "oci:$WORK/oci:$tag" "docker://$REG/bench/$tag:1"
done

# --- one timed run per tool ------------------------------------------------------------------
run_berthd() {  # $1 = image, prints seconds
  local d="$WORK/berthd-$RANDOM$RANDOM"
  mkdir -p "$d"
  echo "{\"registries\": {\"$REG\": {\"plain_http\": true}}}" > "$d/cfg.json"
  "$BERTHD" --config "$d/cfg.json" --root "$d/root" --state "$d/state" --address "$d/s.sock" \
    --snapshotter overlay --log-level error &
  local pid=$!
  wait_for "$BERTHCTL --address $d/s.sock version"
  local t0; t0=$(now)
  "$BERTHCTL" --address "$d/s.sock" pull "$REG/bench/$1:1" >/dev/null 2>&1
  local t1; t1=$(now)
  kill "$pid"; wait "$pid" || true
  rm -rf "$d"
  seconds_between "$t0" "$t1"
}

run_containerd() {
  local d="$WORK/ctrd-root-$RANDOM$RANDOM"
  start_containerd "$d"
  local pid=$ctrd_pid
  local t0; t0=$(now)
  ctr --address "$d/c.sock" images pull --plain-http "$REG/bench/$1:1" >/dev/null
  local t1; t1=$(now)
  kill "$pid"; wait "$pid" || true
  umount -R "$d"/root/* 2>/dev/null || true
  rm -rf "$d"
  seconds_between "$t0" "$t1"
}

run_skopeo() {
  local d="$WORK/skopeo-$RANDOM$RANDOM"
  local t0; t0=$(now)
  skopeo copy --quiet --src-tls-verify=false "docker://$REG/bench/$1:1" "oci:$d:x"
  local t1; t1=$(now)
  rm -rf "$d"
  seconds_between "$t0" "$t1"
}

for image in busybox big; do
  declare -A med=()
  for tool in berthd containerd skopeo; do
    med[$tool]=$(for _ in $(seq "$RUNS"); do "run_$tool" "$image"; done | median)
  done
  printf '%-8s berthd %.3fs  containerd %.3fs  skopeo(fetch only) %.3fs  berthd/containerd %s  berthd/skopeo %s\n' \
    "$image" "${med[berthd]}" "${med[containerd]}" "${med[skopeo]}" \
    "$(ratio "${med[berthd]}" "${med[containerd]}")" "$(ratio "${med[berthd]}" "${med[skopeo]}")"
done
