# Sourced by the bench scripts (from the repository root). The built Berth binaries as absolute
# paths in $berth $shim $berthd $berthctl, from $BUILD (default build); refuses to go on without them.
build=${BUILD:-build}
berth=$(realpath "$build/runtime/berth"); shim=$(realpath "$build/shim/berth-shim")
berthd=$(realpath "$build/manager/berthd"); berthctl=$(realpath "$build/cli/berthctl")
for f in "$berth" "$shim" "$berthd" "$berthctl"; do [[ -x $f ]] || { echo "build first: $f" >&2; exit 1; }; done

# A local docker-registry holding busybox as $image and a berthd in $work that pulls from it over
# plain HTTP (extra berthd arguments passed through), the image already pulled. Sets $image, $ctl
# (berthctl on that berthd) and $berthd_pid; the registry and berthd pids join $pids for cleanup.
# $plain_http_extra: more registry hosts (host:port, space-separated) berthd reaches over plain HTTP.
start_berthd_with_busybox() {
  source scripts/lib/busybox_registry.sh
  start_registry >/dev/null
  pids+=("$registry_pid")
  push_busybox bench/busybox:1 true >/dev/null
  image=$registry/bench/busybox:1
  local hosts="\"$registry\": {\"plain_http\": true}" h
  for h in ${plain_http_extra:-}; do hosts+=", \"$h\": {\"plain_http\": true}"; done
  echo "{\"registries\": {$hosts}}" > "$work/berthd.json"
  "$berthd" --config "$work/berthd.json" --root "$work/berthd-root" --state "$work/berthd-state" \
    --address "$work/berthd.sock" --shim "$shim" --runtime "$berth" "$@" >"$work/berthd.log" 2>&1 &
  berthd_pid=$!
  pids+=("$berthd_pid")
  wait_for "$berthctl --address $work/berthd.sock version"
  ctl=("$berthctl" --address "$work/berthd.sock")
  "${ctl[@]}" pull "$image" >/dev/null
}
