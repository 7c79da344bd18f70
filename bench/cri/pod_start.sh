#!/usr/bin/env bash
# Kubernetes pod start through the CRI, side by side in one run, inside a private network namespace
# this script makes: berthd's CRI vs Debian's containerd with its CRI plugin (a private instance: own
# root, state, socket, CNI conf dir over Debian's /usr/lib/cni plugins, runc, its sandbox image made
# from busybox-static and imported offline with `ctr -n k8s.io images import`). The same client,
# berth-cri-bench (bench/cri/cri_bench.cc), drives both as a kubelet would: RunPodSandbox +
# CreateContainer + StartContainer of one busybox `sleep`. Measured: one pod at a time (mean of
# runs), 20 pods at once (wall time), and memory per pod with the 20 running (daemon RSS delta +
# the PSS of every shim of that daemon, over 20). Ratios printed; targets <= 0.5x containerd.
#   bench/cri/pod_start.sh [runs] [pods]     (defaults 10, 20; needs root)
set -euo pipefail
source "$(dirname "$0")/../berth_setup.sh"
in_private_netns "$@"
runs=${1:-10}
n=${2:-20}
client=$(realpath "$build/bench/berth-cri-bench"); pause=$(realpath "$build/manager/berth-pause")
for f in "$client" "$pause"; do [[ -x $f ]] || { echo "build first: $f" >&2; exit 1; }; done
parent=/cribench-$$  # the kubelet's pod cgroup parent, for both daemons
bench_workdir cribench
bench_cleanup_first() {
  [[ -S $work/berthd-state/cri.sock ]] && "$client" --endpoint "unix:$work/berthd-state/cri.sock" clean >/dev/null 2>&1
  [[ -S $work/ctrd/c.sock ]] && "$client" --endpoint "unix:$work/ctrd/c.sock" clean >/dev/null 2>&1
}
bench_cleanup_last() {
  rmdir /sys/fs/cgroup/*$parent/* /sys/fs/cgroup/*$parent /sys/fs/cgroup/*/berth/*/k8s.io /sys/fs/cgroup/*/berth/* \
    /sys/fs/cgroup/*/berth 2>/dev/null
}

start_berthd_with_busybox --pause "$pause"
berth_cri=unix:$work/berthd-state/cri.sock
wait_for "$client --endpoint $berth_cri clean"
berth_image=$("$client" --endpoint "$berth_cri" pull "$image")

# containerd's sandbox and container image: busybox-static (sleep as its command), as an archive.
push_busybox bench/sandbox:1 /bin/sleep 2147483647 >/dev/null
skopeo copy --quiet --src-tls-verify=false "docker://$registry/bench/sandbox:1" \
  "docker-archive:$work/sandbox.tar:bench.local/sandbox:1"
d=$work/ctrd
mkdir -p "$d/cni"
cat > "$d/cni/10-bench.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "cribench", "plugins": [
  {"type": "bridge", "bridge": "cribench0", "isGateway": true, "ipMasq": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.231.0.0/16"}]], "dataDir": "$d/ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}}]}
JSON
cat > "$d/config.toml" <<TOML
version = 2
root = "$d/root"
state = "$d/state"
[grpc]
  address = "$d/c.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "bench.local/sandbox:1"
  stream_server_port = "0"
  # Sandboxes get oom_score_adj -998 otherwise, which this host's bounding set (no CAP_SYS_RESOURCE)
  # refuses; berthd leaves the score as it is, so both sides now do the same.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni"
TOML
containerd --config "$d/config.toml" >"$d/log" 2>&1 &
ctrd_pid=$!
pids+=("$ctrd_pid")
wait_for "ctr --address $d/c.sock version"
ctr --address "$d/c.sock" -n k8s.io images import "$work/sandbox.tar" >/dev/null
ctrd_cri=unix:$d/c.sock
wait_for "$client --endpoint $ctrd_cri clean"
ctrd_image=bench.local/sandbox:1

pod_args=(--log-dir "$work/logs" --cgroup-parent "$parent")

# One pod at a time: a warm-up pod, then the mean of `runs` (each removed before the next).
one_pod() {  # endpoint image -> mean ms
  local endpoint=$1 img=$2 total=0 ms
  "$client" --endpoint "$endpoint" start --image "$img" --name warm "${pod_args[@]}" >/dev/null
  "$client" --endpoint "$endpoint" clean
  for i in $(seq 1 "$runs"); do
    ms=$("$client" --endpoint "$endpoint" start --image "$img" --name "one$i" "${pod_args[@]}" | awk '{print $1}')
    total=$(awk -v a="$total" -v b="$ms" 'BEGIN {print a + b}')
    "$client" --endpoint "$endpoint" clean
  done
  awk -v t="$total" -v n="$runs" 'BEGIN {print t / n}'
}
b1=$(one_pod "$berth_cri" "$berth_image")
c1=$(one_pod "$ctrd_cri" "$ctrd_image")

# n pods at once, then memory with them running (settled: page cache written back, idle heap freed).
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
many_pods() {  # endpoint image daemon-pid shim-pattern -> "wall_ms mem_per_pod_kib shims"
  local endpoint=$1 img=$2 daemon=$3 pattern=$4 before wall after shims count
  sync; sleep 5
  before=$(rss "$daemon")
  wall=$("$client" --endpoint "$endpoint" start --image "$img" --pods "$n" --name many "${pod_args[@]}" |
    awk '{print $1}')
  sync; sleep 10
  after=$(rss "$daemon")
  read -r shims count < <(pss_of "$pattern")
  "$client" --endpoint "$endpoint" clean
  echo "$wall $(( (after - before + shims) / n )) $count $(( (after - before) / n )) $(( shims / n ))"
}
read -r bw bm bn bd bs < <(many_pods "$berth_cri" "$berth_image" "$berthd_pid" "serve --namespace .* --bundle $work/")
read -r cw cm cn cd cs < <(many_pods "$ctrd_cri" "$ctrd_image" "$ctrd_pid" "containerd-shim-runc-v2 .*-address $d/c.sock")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; }
printf "\nPod start (RunPodSandbox + CreateContainer + StartContainer of one busybox container, CNI bridge):\n"
printf "  one pod (mean of %d):  berthd %8.1f ms   containerd %8.1f ms   %s (target <= 0.5x)\n" \
  "$runs" "$b1" "$c1" "$(ratio "$b1" "$c1")"
printf "  %d pods at once:      berthd %8.1f ms   containerd %8.1f ms   %s (target <= 0.5x)\n" \
  "$n" "$bw" "$cw" "$(ratio "$bw" "$cw")"
printf "Memory per pod with %d running (daemon RSS delta + shims' PSS, / %d):\n" "$n" "$n"
printf "  berthd     %6d KiB (daemon %d + %d shims %d)\n" "$bm" "$bd" "$bn" "$bs"
printf "  containerd %6d KiB (daemon %d + %d shims %d)\n" "$cm" "$cd" "$cn" "$cs"
printf "  %s (target <= 0.5x)\n" "$(ratio "$bm" "$cm")"
