#!/usr/bin/env bash
# Push side by side in one run: `berthctl push` (berthd's registry client) vs `skopeo copy` from
# an OCI layout of the same image, to a local docker-registry over plain HTTP. The image is
# busybox plus 5 layers of 20 MiB of random bytes (incompressible: what is measured is the
# upload, not gzip), built by berthd. Before every timed push the destination registry is
# restarted with empty storage, so each push uploads every blob (no HEAD hit, no cross-repository
# mount from an earlier run). Prints the mean times and the berth/skopeo ratio (target <= 1.0x).
#   bench/manager/push.sh [runs]     (default 5; needs root)
set -euo pipefail
source "$(dirname "$0")/../berth_setup.sh"
runs=${1:-5}
bench_workdir pushbench
bench_cleanup_first() { [[ -f $work/dest.pid ]] && kill "$(cat "$work/dest.pid")" 2>/dev/null; }
bench_cleanup_last() { remove_cgroups_under "berth-pushbench-$$"; }

# The destination: a docker-registry on its own port, restarted empty by fresh_registry.sh.
port=$(comm -23 <(seq 40001 50000) <(ss -ltnH | awk '{print $4}' | sed 's/.*://' | sort -n) | shuf -n1)
dest=127.0.0.1:$port
plain_http_extra=$dest start_berthd_with_busybox --cgroup-parent "/berth-pushbench-$$"
printf 'version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: %s}\n' \
  "$work/dest" "$dest" > "$work/dest.yml"
# The image: 5 COPY layers of 20 MiB each on the busybox base.
ctx=$work/context
mkdir -p "$ctx"
{
  echo "FROM $image"
  for i in 1 2 3 4 5; do
    head -c 20M /dev/urandom > "$ctx/layer$i.bin"
    echo "COPY layer$i.bin /"
  done
} > "$ctx/Dockerfile"
"${ctl[@]}" build -q -t bench/push:1 "$ctx" >/dev/null
# skopeo's source: the same blobs (compressed as berthd stored them) in an OCI layout.
"${ctl[@]}" save --format oci-archive -o "$work/image.tar" bench/push:1
mkdir -p "$work/layout" && tar -C "$work/layout" -xf "$work/image.tar"

cat > "$work/fresh_registry.sh" <<SH
set -e
if [[ -f $work/dest.pid ]]; then
  kill \$(cat $work/dest.pid) 2>/dev/null || true
  while curl -s -o /dev/null http://$dest/v2/; do sleep 0.05; done  # until the old one let go of the port
fi
rm -rf $work/dest
setsid docker-registry serve $work/dest.yml >$work/dest.log 2>&1 < /dev/null &
echo \$! > $work/dest.pid
source $PWD/scripts/lib/wait_for.sh
wait_for "curl -sf http://$dest/v2/"
SH
"${ctl[@]}" tag bench/push:1 "$dest/bench/push:1"

hyperfine -N --runs "$runs" --prepare "bash $work/fresh_registry.sh" --export-json "$work/berth.json" \
  "${ctl[*]} push -q $dest/bench/push:1" >/dev/null
hyperfine -N --runs "$runs" --prepare "bash $work/fresh_registry.sh" --export-json "$work/skopeo.json" \
  "skopeo copy --quiet --dest-tls-verify=false oci:$work/layout docker://$dest/bench/push:1" >/dev/null

ms() { jq '.results[0].mean * 1000' "$1"; }
b=$(ms "$work/berth.json"); s=$(ms "$work/skopeo.json")
printf 'push of busybox + 5 x 20 MiB layers (%d runs each, empty registry each time)\n' "$runs"
printf '  berthctl push   %9.1f ms\n  skopeo copy     %9.1f ms\n' "$b" "$s"
awk -v b="$b" -v s="$s" 'BEGIN {printf "  berth/skopeo %.2fx (target <= 1.0x)\n", b/s}'
