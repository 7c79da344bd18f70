#!/usr/bin/env bash
# Published ports, side by side in one run, inside a private network namespace this script makes
# (nothing touches the host's network): `berthctl run --rm -p` (berthd, CNI bridge + portmap) vs
# `podman run --rm -p` (podman's CNI backend, private root/runroot/CNI config dir, runc) start time;
# then HTTP throughput (ab, 1 MiB file from busybox httpd) through a published port on 127.0.0.1 vs
# the same server reached directly on its veth address. Ratios printed; targets: start <= 0.5x
# podman, throughput through the port >= 0.9x direct.
#   bench/network/publish.sh [runs] [requests]     (defaults 20, 2000; needs root)
set -euo pipefail
source "$(dirname "$0")/../berth_setup.sh"
in_private_netns "$@"
runs=${1:-20}
requests=${2:-2000}
bench_workdir netbench
pod=()
bench_cleanup_first() {
  remove_berth_containers
  ((${#pod[@]})) && "${pod[@]}" rm -af >/dev/null 2>&1
}
bench_cleanup_last() { rmdir /sys/fs/cgroup/*/berth/*/default /sys/fs/cgroup/*/berth/* /sys/fs/cgroup/*/berth 2>/dev/null; }
start_berthd_with_busybox

mkdir -p "$work/cni"
printf '[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "%s"\ncni_plugin_dirs = ["/usr/lib/cni"]\n' \
  "$work/cni" > "$work/containers.conf"
export CONTAINERS_CONF=$work/containers.conf
pod=(podman --root "$work/podman" --runroot "$work/podman-run" --cgroup-manager cgroupfs --events-backend file --runtime runc)
"${pod[@]}" pull --quiet --tls-verify=false "$image" >/dev/null
[[ $("${pod[@]}" info --format '{{.Host.NetworkBackend}}') == cni ]] || { echo "podman is not on CNI" >&2; exit 1; }

hyperfine -N --runs "$runs" --warmup 2 --export-json "$work/berth.json" \
  "${ctl[*]} run --rm --network bridge -p 18080:80 $image true" >/dev/null
hyperfine -N --runs "$runs" --warmup 2 --export-json "$work/podman.json" \
  "${pod[*]} run --rm -p 18080:80 --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 $image true" >/dev/null
ms() { jq '.results[0].mean * 1000' "$1"; }
b=$(ms "$work/berth.json"); p=$(ms "$work/podman.json")

# Throughput: a 1 MiB file from busybox httpd, through the published port and directly.
serve='mkdir -p /www && head -c 1048576 /dev/zero > /www/f && exec httpd -f -p 80 -h /www'
"${ctl[@]}" run -d --name web --network bridge -p 18081:80 "$image" sh -c "$serve" >/dev/null
address=$("${ctl[@]}" inspect web | jq -r '.[0].NetworkSettings.IPAddress')
wait_for "curl -sf -o /dev/null http://127.0.0.1:18081/f"
tput() { ab -q -n "$requests" -c 8 "$1" | awk '/^Transfer rate/ {print $3}'; }
direct=$(tput "http://$address:80/f"); published=$(tput "http://127.0.0.1:18081/f")
direct2=$(tput "http://$address:80/f"); published2=$(tput "http://127.0.0.1:18081/f")  # interleaved twice
d=$(awk -v a="$direct" -v b="$direct2" 'BEGIN {print (a + b) / 2 / 1024}')
q=$(awk -v a="$published" -v b="$published2" 'BEGIN {print (a + b) / 2 / 1024}')

printf "\nrun --rm -p 18080:80 of /bin/true (mean of %d):\n" "$runs"
printf "  berthctl run --rm -p  %8.1f ms\n  podman run --rm -p    %8.1f ms (CNI backend)\n" "$b" "$p"
awk -v b="$b" -v p="$p" 'BEGIN {printf "  berth/podman %.2fx (target <= 0.5x)\n", b/p}'
printf "HTTP GET of 1 MiB, %d requests, 8 concurrent (ab), mean of 2 interleaved runs each:\n" "$requests"
printf "  direct to %s:80      %8.1f MiB/s\n  published 127.0.0.1:18081 %8.1f MiB/s\n" "$address" "$d" "$q"
awk -v d="$d" -v q="$q" 'BEGIN {printf "  published/direct %.2fx (target >= 0.9x)\n", q/d}'
