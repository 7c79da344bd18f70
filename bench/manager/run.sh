#!/usr/bin/env bash
# End-to-end run, side by side in one run: `berthctl run --rm` (berthd + berth-shim + berth) vs
# `ctr run --rm` (containerd + containerd-shim-runc-v2 + runc) vs `podman run --rm` (conmon + runc;
# podman's default crun refuses this hybrid-cgroup host), all on the same busybox image pulled from
# a local docker-registry. Then N detached sleeping containers on each daemon: the time to start
# them, the daemons' RSS, and the PSS of each container's shim measured in place.
#   bench/manager/run.sh [runs] [N]     (defaults 20, 50; needs root)
set -euo pipefail
source "$(dirname "$0")/../berth_setup.sh"
runs=${1:-20}
n=${2:-50}
bench_workdir runbench
ctrd=
bench_cleanup_first() {
  remove_berth_containers
  if [[ -n $ctrd ]]; then
    for i in $(seq 1 "$n"); do ctr --address "$work/ctrd/c.sock" task kill -s KILL "d$i" >/dev/null 2>&1; done
    sleep 1
    for i in $(seq 1 "$n"); do
      ctr --address "$work/ctrd/c.sock" task delete "d$i" >/dev/null 2>&1
      ctr --address "$work/ctrd/c.sock" container delete "d$i" >/dev/null 2>&1
    done
  fi
  podman --root "$work/podman" --runroot "$work/podman-run" rm -af >/dev/null 2>&1
}
# The daemons keep their namespaces' parent cgroups (berthd /berth/<root hash>/default, containerd /default).
bench_cleanup_last() {
  rmdir /sys/fs/cgroup/*/berth/*/default /sys/fs/cgroup/*/berth/* /sys/fs/cgroup/*/berth /sys/fs/cgroup/*/default 2>/dev/null
}
source scripts/lib/containerd.sh
# At debug level berthd logs every call it serves and every call it makes to a shim: the round trips
# of one run --rm are counted from its log below (a log line per call, nothing else logs at debug).
start_berthd_with_busybox --log-level debug

start_containerd "$work/ctrd"
pids+=("$ctrd_pid"); ctrd=$ctrd_pid
ctr --address "$work/ctrd/c.sock" images pull --plain-http "$image" >/dev/null

pod=(podman --root "$work/podman" --runroot "$work/podman-run" --cgroup-manager cgroupfs --events-backend file --runtime runc)
"${pod[@]}" pull --quiet --tls-verify=false "$image" >/dev/null

hyperfine -N --runs "$runs" --warmup 2 --export-json "$work/berth.json" \
  "$berthctl --address $work/berthd.sock run --rm $image true" >/dev/null
hyperfine --runs "$runs" --warmup 2 --export-json "$work/ctr.json" \
  "ctr --address $work/ctrd/c.sock run --rm $image bench-\$\$ true" >/dev/null
hyperfine -N --runs "$runs" --warmup 2 --export-json "$work/podman.json" \
  "${pod[*]} run --rm --net none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 $image true" >/dev/null
ms() { jq '.results[0].mean * 1000' "$1"; }
# One more run --rm, its calls counted: CLI->berthd (the manager API), berthd->shim, shim->berthd (events).
before=$(wc -l <"$work/berthd.log")
"$berthctl" --address "$work/berthd.sock" run --rm "$image" true
sleep 1  # the shim's last events are published after the client has its answer; only counted, not timed
tail -n +"$((before + 1))" "$work/berthd.log" >"$work/one-run.log"
cli_calls=$(grep -c 'call /berth\.manager\.' "$work/one-run.log" || true)
shim_calls=$(grep -c 'shim call ' "$work/one-run.log" || true)
event_calls=$(grep -c 'call /berth\.task\.v1\.EventSink/' "$work/one-run.log" || true)
calls_detail=$(grep -o 'call /berth\.manager\.v1\.[A-Za-z]*/[A-Za-z]*\|shim call [a-z ]*' "$work/one-run.log" |
  sed 's|call /berth.manager.v1.||' | paste -sd, -)
b=$(ms "$work/berth.json"); c=$(ms "$work/ctr.json"); p=$(ms "$work/podman.json")

# N detached sleeping containers on each daemon: start time, then the daemons' RSS and shims' PSS.
now() { date +%s%N; }
t0=$(now)
for i in $(seq 1 "$n"); do
  "$berthctl" --address "$work/berthd.sock" run -d --name "b$i" "$image" sleep 100000 >/dev/null
done
t1=$(now)
for i in $(seq 1 "$n"); do
  ctr --address "$work/ctrd/c.sock" run -d "$image" "d$i" sleep 100000 >/dev/null
done
t2=$(now)
# Settled, as containers mostly are: freshly written binaries' page cache written back (it counts
# as dirty until then), idle gRPC connections closed and freed heap returned, on both sides.
sync; sleep 20
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
br=$(rss "$berthd_pid"); cr=$(rss "$ctrd")
# PSS of every shim of this run (berth-shim re-executes itself as "/proc/self/exe serve ... --bundle
# <our work dir>/..."; containerd-shim-runc-v2 names our containerd socket).
pss_per_shim() {
  local total count
  read -r total count < <(pss_of "$1")
  echo "$((total / (count > 0 ? count : 1))) $count"
}
read -r bp bn < <(pss_per_shim "serve --namespace .* --bundle $work/")
read -r cp cn < <(pss_per_shim "containerd-shim-runc-v2 .*-address $work/ctrd/c.sock")

printf "\nrun --rm of /bin/true (mean of %d):\n" "$runs"
printf "  berthctl run --rm  %8.1f ms\n  ctr run --rm       %8.1f ms\n  podman run --rm    %8.1f ms\n" "$b" "$c" "$p"
awk -v b="$b" -v c="$c" -v p="$p" 'BEGIN {printf "  berth/ctr %.2fx   berth/podman %.2fx\n", b/c, b/p}'
printf "calls per run --rm: CLI->berthd %d, berthd->shim %d, shim->berthd events %d\n  (%s)\n" \
  "$cli_calls" "$shim_calls" "$event_calls" "$calls_detail"
printf "%d detached containers, one after another: berthctl run -d %.1f ms each, ctr run -d %.1f ms each (%.2fx)\n" \
  "$n" "$(awk -v d=$((t1 - t0)) -v n="$n" 'BEGIN {print d / n / 1e6}')" \
  "$(awk -v d=$((t2 - t1)) -v n="$n" 'BEGIN {print d / n / 1e6}')" "$(awk -v a=$((t1 - t0)) -v b=$((t2 - t1)) 'BEGIN {print a/b}')"
printf "daemon RSS with them: berthd %d KiB, containerd %d KiB (%.2fx)\n" "$br" "$cr" \
  "$(awk -v a="$br" -v b="$cr" 'BEGIN {print a/b}')"
printf "PSS per shim in place: berth-shim %d KiB (%d shims), containerd-shim-runc-v2 %d KiB (%d shims) (%.2fx)\n" \
  "$bp" "$bn" "$cp" "$cn" "$(awk -v a="$bp" -v b="$cp" 'BEGIN {print (b > 0 ? a/b : 0)}')"
