# Sourced first by the bench scripts, as `source "$(dirname "$0")/../berth_setup.sh"`: goes to the
# repository root, and puts the built Berth binaries as absolute paths in $berth $shim $berthd
# $berthctl, from $BUILD (default build); refuses to go on without them.
bench_script=$(realpath "$0")  # before the cd: in_private_netns runs the script again
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build=${BUILD:-build}
berth=$(realpath "$build/runtime/berth"); shim=$(realpath "$build/shim/berth-shim")
berthd=$(realpath "$build/manager/berthd"); berthctl=$(realpath "$build/cli/berthctl")
for f in "$berth" "$shim" "$berthd" "$berthctl"; do [[ -x $f ]] || { echo "build first: $f" >&2; exit 1; }; done

# in_private_netns "$@": runs the calling script again inside a new network namespace of its own
# (only loopback, brought up), so nothing the bench does reaches the host's network; the namespace,
# with every bridge, veth and rule the bench made, goes when the script exits.
in_private_netns() {
  if [[ -z ${BERTH_BENCH_IN_NETNS:-} ]]; then
    exec unshare --net env BERTH_BENCH_IN_NETNS=1 "$bench_script" "$@"
  fi
  ip link set lo up
}

# bench_workdir NAME: a fresh $work (/tmp/berth-NAME.XXXXXX), an empty $pids (processes to stop at
# exit), and an exit trap that runs the script's bench_cleanup_first (if defined: what needs the
# daemons still up), stops $pids, unmounts what is under $work, runs bench_cleanup_last (if
# defined: cgroups the daemons left) and removes $work.
bench_workdir() {
  work=$(mktemp -d "/tmp/berth-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  set +e
  declare -F bench_cleanup_first >/dev/null && bench_cleanup_first
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  grep -o " $work[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
  declare -F bench_cleanup_last >/dev/null && bench_cleanup_last
  rm -rf "$work"
}

# remove_berth_containers: `rm -f` of every container of the bench's berthd (if it is up).
remove_berth_containers() {
  [[ -S $work/berthd.sock ]] && "$berthctl" --address "$work/berthd.sock" ps -a -q 2>/dev/null |
    xargs -r "$berthctl" --address "$work/berthd.sock" rm -f >/dev/null 2>&1
}

# remove_cgroups_under PARENT: the cgroup directories a daemon left under PARENT (every hierarchy).
remove_cgroups_under() {
  find /sys/fs/cgroup -depth -type d -path "*/$1*" -exec rmdir {} \; 2>/dev/null
}

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
  "${ctl[@]}" pull "$image" >/dev/null 2>"$work/pull.log" || { cat "$work/pull.log" >&2; return 1; }
}

# pss_of PATTERN: "<total PSS KiB> <count>" of the processes whose command line matches PATTERN
# (pgrep -f), from /proc/<pid>/smaps_rollup: shared pages split between the sharers, as smem counts.
pss_of() {
  local total=0 count=0 pid
  for pid in $(pgrep -f "$1"); do
    total=$((total + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")))
    count=$((count + 1))
  done
  echo "$total $count"
}
