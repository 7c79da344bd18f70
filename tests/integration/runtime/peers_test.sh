#!/usr/bin/env bash
# berth under the tools that drive runc: containerd's runc shim (via ctr --runc-binary) and
# podman (--runtime). Each gets a private daemon/storage under a temp dir; nothing system-wide
# is used or left behind.
#   peers_test.sh /path/to/berth
set -euo pipefail
berth=$(realpath "$1")
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root"; exit 77; }
for tool in containerd ctr podman jq; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done

work=$(mktemp -d /tmp/berth-peers.XXXXXX)
ctrd_pid=
cleanup() {
  set +e
  if [[ -n $ctrd_pid ]]; then
    for t in $(ctr -a "$work/ctrd.sock" task ls -q 2>/dev/null); do ctr -a "$work/ctrd.sock" task kill -s KILL "$t"; done
    sleep 0.2
    for t in $(ctr -a "$work/ctrd.sock" task ls -q 2>/dev/null); do ctr -a "$work/ctrd.sock" task rm -f "$t"; done
    for c in $(ctr -a "$work/ctrd.sock" c ls -q 2>/dev/null); do ctr -a "$work/ctrd.sock" c rm "$c"; done
    kill "$ctrd_pid"; wait "$ctrd_pid" 2>/dev/null
  fi
  podman "${podman_args[@]}" rm -af >/dev/null 2>&1
  podman "${podman_args[@]}" system reset -f >/dev/null 2>&1
  grep -o " $work[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected [$2], got [$1]"; }

# An image from busybox-static, via podman's own (temporary) storage.
podman_args=(--root "$work/podman/root" --runroot "$work/podman/run" --storage-driver vfs
             --cgroup-manager cgroupfs --events-backend none)
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/"
for a in sh echo hostname ps sleep cat id; do ln -s busybox "$work/rootfs/bin/$a"; done
tar -C "$work/rootfs" -c . | podman "${podman_args[@]}" import -q - localhost/berth-peers:latest >/dev/null
podman "${podman_args[@]}" save -q --format oci-archive -o "$work/image.tar" localhost/berth-peers:latest

echo "== podman --runtime berth"
out=$(podman "${podman_args[@]}" --runtime "$berth" run --rm --network none \
  --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
  localhost/berth-peers:latest sh -c 'echo podman-ok; exit 4' || echo "exit=$?")
expect_eq "$out" $'podman-ok\nexit=4' "podman run"
pod=(podman "${podman_args[@]}" --runtime "$berth")
"${pod[@]}" run -d --name berth-peers-d --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
  localhost/berth-peers:latest sleep 1000 >/dev/null
expect_eq "$("${pod[@]}" exec berth-peers-d sh -c 'echo exec-ok; cat /proc/1/comm')" $'exec-ok\nsleep' "podman exec"
"${pod[@]}" stop -t 1 berth-peers-d >/dev/null
expect_eq "$("${pod[@]}" inspect -f '{{.State.Status}}' berth-peers-d)" exited "podman stop"
"${pod[@]}" rm berth-peers-d >/dev/null
expect_eq "$("${pod[@]}" ps -aq --filter name=berth-peers-d)" "" "podman rm"

echo "== containerd + containerd-shim-runc-v2 --runc-binary berth"
cat > "$work/containerd.toml" <<TOML
version = 2
root = "$work/ctrd-root"
state = "$work/ctrd-state"
[grpc]
  address = "$work/ctrd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  disable = true
TOML
containerd --config "$work/containerd.toml" >"$work/containerd.log" 2>&1 &
ctrd_pid=$!
# Bounded polls, generous for a loaded CI machine (a full suite at -j2 has run this at load 12).
for _ in $(seq 600); do [[ -S $work/ctrd.sock ]] && break; sleep 0.05; done
[[ -S $work/ctrd.sock ]] || fail "containerd did not start: $(tail -5 "$work/containerd.log")"
ctr=(ctr -a "$work/ctrd.sock")
"${ctr[@]}" images import "$work/image.tar" >/dev/null

out=$("${ctr[@]}" run --rm --runc-binary "$berth" localhost/berth-peers:latest p1 sh -c 'echo ctr-ok; exit 3' || echo "exit=$?")
expect_eq "$out" $'ctr-ok\nexit=3' "ctr run --rm"

"${ctr[@]}" run -d --runc-binary "$berth" localhost/berth-peers:latest p2 sleep 1000 >/dev/null
expect_eq "$("${ctr[@]}" task ls | awk '$1=="p2"{print $3}')" RUNNING "task status"
out=$("${ctr[@]}" task exec --exec-id e1 p2 sh -c 'echo exec-ok; tr "\\0" " " < /proc/1/cmdline')
expect_eq "$out" $'exec-ok\nsleep 1000 ' "task exec"
"${ctr[@]}" task pause p2
expect_eq "$("${ctr[@]}" task ls | awk '$1=="p2"{print $3}')" PAUSED "after pause"
"${ctr[@]}" task resume p2
expect_eq "$("${ctr[@]}" task ls | awk '$1=="p2"{print $3}')" RUNNING "after resume"
"${ctr[@]}" task kill -s KILL p2
for _ in $(seq 600); do [[ $("${ctr[@]}" task ls | awk '$1=="p2"{print $3}') == STOPPED ]] && break; sleep 0.05; done
expect_eq "$("${ctr[@]}" task ls | awk '$1=="p2"{print $3}')" STOPPED "after kill"
"${ctr[@]}" task rm p2 >/dev/null
"${ctr[@]}" c rm p2
echo "PASS"
