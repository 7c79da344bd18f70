#!/usr/bin/env bash
# berth under the tools that drive runc: containerd's runc shim (via ctr --runc-binary) and
# podman (--runtime). Each gets a private daemon/storage under a temp dir; nothing system-wide
# is used or left behind. The same script runs with runc, so each expectation is runc's behaviour.
#   peers_test.sh /path/to/berth      peers_test.sh /usr/sbin/runc
set -euo pipefail
berth=$(realpath "$1" 2>/dev/null) || { echo "SKIP: $1 is not installed"; exit 77; }
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
  # A podman run that failed half-way can leave the runtime's own state (in its default root) for a
  # container of ours: delete exactly those, by their bundle under $work.
  for id in $("$berth" list -q 2>/dev/null); do
    "$berth" state "$id" 2>/dev/null | grep -q "\"bundle\": *\"$work/" && "$berth" delete --force "$id" >/dev/null 2>&1
  done
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
for a in sh echo hostname ps sleep cat id tty; do ln -s busybox "$work/rootfs/bin/$a"; done
tar -C "$work/rootfs" -c . | podman "${podman_args[@]}" import -q - localhost/berth-peers:latest >/dev/null
podman "${podman_args[@]}" save -q --format oci-archive -o "$work/image.tar" localhost/berth-peers:latest

echo "== podman --runtime $(basename "$berth")"
out=$(podman "${podman_args[@]}" --runtime "$berth" run --rm --network none \
  --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
  localhost/berth-peers:latest sh -c 'echo podman-ok; exit 4' || echo "exit=$?")
expect_eq "$out" $'podman-ok\nexit=4' "podman run"
pod=(podman "${podman_args[@]}" --runtime "$berth")
"${pod[@]}" run -d --name berth-peers-d --network none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
  localhost/berth-peers:latest sleep 1000 >/dev/null
expect_eq "$("${pod[@]}" exec berth-peers-d sh -c 'echo exec-ok; cat /proc/1/comm')" $'exec-ok\nsleep' "podman exec"
# The rest of the verbs podman users run, with runc's exit codes and the words podman matches on.
expect_eq "$("${pod[@]}" exec -t berth-peers-d tty | tr -d '\r')" /dev/pts/0 "podman exec -t"
set +e
"${pod[@]}" exec berth-peers-d sh -c 'exit 5'; code=$?
expect_eq "$code" 5 "podman exec exit code"
err=$("${pod[@]}" exec -w /no/such/dir berth-peers-d no-such-command 2>&1); code=$?
expect_eq "$code" 127 "podman exec with a missing cwd"
[[ $err == *"chdir to cwd"* ]] || fail "podman exec with a missing cwd and command: the cwd is reported first, got: $err"
"${pod[@]}" exec berth-peers-d /no/such/command 2>/dev/null; code=$?
expect_eq "$code" 127 "podman exec of a missing command"
set -e
"${pod[@]}" kill -s USR1 berth-peers-d >/dev/null
"${pod[@]}" pause berth-peers-d >/dev/null
expect_eq "$("${pod[@]}" inspect -f '{{.State.Status}}' berth-peers-d)" paused "podman pause"
"${pod[@]}" unpause berth-peers-d >/dev/null
expect_eq "$("${pod[@]}" top berth-peers-d pid args | tail -1 | awk '{print $1, $2, $3}')" "1 sleep 1000" "podman top"
"${pod[@]}" update --memory 64m berth-peers-d >/dev/null
# (podman 4.3's inspect does not show an update: read the limit from init's memory cgroup.)
pid=$("${pod[@]}" inspect -f '{{.State.Pid}}' berth-peers-d)
memcg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3}' "/proc/$pid/cgroup")
if [[ -n $memcg ]]; then limit=$(cat "/sys/fs/cgroup/memory$memcg/memory.limit_in_bytes")
else limit=$(cat "/sys/fs/cgroup$(awk -F: '$1 == 0 {print $3}' "/proc/$pid/cgroup")/memory.max"); fi
expect_eq "$limit" 67108864 "podman update --memory"
"${pod[@]}" stop -t 1 berth-peers-d >/dev/null
expect_eq "$("${pod[@]}" inspect -f '{{.State.Status}}' berth-peers-d)" exited "podman stop"
"${pod[@]}" rm berth-peers-d >/dev/null
expect_eq "$("${pod[@]}" ps -aq --filter name=berth-peers-d)" "" "podman rm"

echo "== containerd + containerd-shim-runc-v2 --runc-binary $(basename "$berth")"
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
# containerd's runc shim keeps the runtime's state under /run/containerd/runc/<namespace>/<id>
# whatever containerd's own root: ids of this run only, so the berth and runc runs can go in parallel.
p1=peers-rm-$$ p2=peers-d-$$
"${ctr[@]}" images import "$work/image.tar" >/dev/null

out=$("${ctr[@]}" run --rm --runc-binary "$berth" localhost/berth-peers:latest "$p1" sh -c 'echo ctr-ok; exit 3' || echo "exit=$?")
expect_eq "$out" $'ctr-ok\nexit=3' "ctr run --rm"

"${ctr[@]}" run -d --runc-binary "$berth" localhost/berth-peers:latest "$p2" sleep 1000 >/dev/null
expect_eq "$("${ctr[@]}" task ls | awk -v id="$p2" '$1==id{print $3}')" RUNNING "task status"
out=$("${ctr[@]}" task exec --exec-id e1 "$p2" sh -c 'echo exec-ok; tr "\\0" " " < /proc/1/cmdline')
expect_eq "$out" $'exec-ok\nsleep 1000 ' "task exec"
set +e
"${ctr[@]}" task exec --exec-id e2 "$p2" sh -c 'exit 4'; code=$?
expect_eq "$code" 4 "task exec exit code"
err=$("${ctr[@]}" task exec --exec-id e3 --cwd /no/such/dir "$p2" true 2>&1); code=$?
expect_eq "$code" 1 "task exec with a missing cwd"
[[ $err == *"chdir to cwd"* ]] || fail "task exec with a missing cwd: $err"
err=$("${ctr[@]}" task checkpoint "$p2" 2>&1); code=$?
[[ $code != 0 ]] || fail "task checkpoint succeeded without CRIU"
set -e
expect_eq "$("${ctr[@]}" task ps "$p2" | awk 'NR==2{print $1}')" "$("${ctr[@]}" task ls | awk -v id="$p2" '$1==id{print $2}')" "task ps lists init"
"${ctr[@]}" task pause "$p2"
expect_eq "$("${ctr[@]}" task ls | awk -v id="$p2" '$1==id{print $3}')" PAUSED "after pause"
if "${ctr[@]}" task exec --exec-id e4 "$p2" true 2>/dev/null; then fail "task exec into a paused task succeeded"; fi
"${ctr[@]}" task resume "$p2"
expect_eq "$("${ctr[@]}" task ls | awk -v id="$p2" '$1==id{print $3}')" RUNNING "after resume"
"${ctr[@]}" task kill -s KILL "$p2"
for _ in $(seq 600); do [[ $("${ctr[@]}" task ls | awk -v id="$p2" '$1==id{print $3}') == STOPPED ]] && break; sleep 0.05; done
expect_eq "$("${ctr[@]}" task ls | awk -v id="$p2" '$1==id{print $3}')" STOPPED "after kill"
"${ctr[@]}" task rm "$p2" >/dev/null
"${ctr[@]}" c rm "$p2"
echo "PASS: $berth"
