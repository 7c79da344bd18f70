#!/usr/bin/env bash
# Drives a runtime the way shell users drive runc: output captured through $(...) and pipes,
# --pid-file, --console-socket with a receiver, delete --force of missing ids, events --interval.
# Passes for runc and berth alike:
#   shell_users_test.sh /path/to/berth      shell_users_test.sh /usr/sbin/runc
set -euo pipefail
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root"; exit 77; }
rt=$(realpath "${1:?runtime binary}" 2>/dev/null) || { echo "SKIP: $1 is not installed"; exit 77; }
for tool in jq python3 timeout; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
[[ -x /bin/busybox ]] || { echo "SKIP: needs busybox-static"; exit 77; }

work=$(mktemp -d /tmp/berth-shell-users.XXXXXX)
root="$work/state"
receiver_pid=
cleanup() {
  set +e
  for id in $("$rt" --root "$root" list -q 2>/dev/null); do "$rt" --root "$root" delete --force "$id" >/dev/null 2>&1; done
  [[ -n $receiver_pid ]] && kill "$receiver_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL ($rt): $*"; exit 1; }
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: expected [$2], got [$1]"; }
r() { "$rt" --root "$root" "$@"; }

mkdir -p "$work/b/rootfs/bin"
cp /bin/busybox "$work/b/rootfs/bin/"
for a in sh echo sleep cat true; do ln -s busybox "$work/b/rootfs/bin/$a"; done
(cd "$work/b" && "$rt" spec)
bundle_with() {  # args as JSON, terminal
  jq --argjson args "$1" --argjson tty "$2" --arg cg "/shell-users-$(basename "$work")-$3" \
    '.process.args=$args | .process.terminal=$tty | .linux.cgroupsPath=$cg' "$work/b/config.json.orig" \
    > "$work/b/config.json"
}
cp "$work/b/config.json" "$work/b/config.json.orig"

# 1. $(...) and a pipe capture the container's output; the exit code comes back.
bundle_with '["sh","-c","echo hello; exit 3"]' false 1
set +e
out=$(timeout 20 "$rt" --root "$root" run --bundle "$work/b" c1)
code=$?
set -e
expect_eq "$out" "hello" "run output through \$(...)"
expect_eq "$code" "3" "run exit code"
expect_eq "$(timeout 20 "$rt" --root "$root" run --bundle "$work/b" c2 | cat)" "hello" "run output through a pipe"

# 2. create with --console-socket and --pid-file, captured with $(...): returns, pid file is init's.
cat > "$work/receiver.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(4)
open(sys.argv[1] + ".ready", "w").close()
while True:
    c, _ = s.accept()
    msg, fds, _, _ = socket.recv_fds(c, 1024, 4)
    print("pty master received", flush=True)  # keep the master open, as a shim would
PY
python3 "$work/receiver.py" "$work/console.sock" > "$work/receiver.out" 2>&1 &
receiver_pid=$!
for _ in $(seq 100); do [[ -e "$work/console.sock.ready" ]] && break; sleep 0.05; done
bundle_with '["sleep","1000"]' true 3
out=$(timeout 20 "$rt" --root "$root" create --bundle "$work/b" --console-socket "$work/console.sock" \
  --pid-file "$work/c3.pid" c3) || fail "create --console-socket did not return (exit $?)"
expect_eq "$out" "" "create prints nothing"
expect_eq "$(r state c3 | jq -r .status)" "created" "state after create"
expect_eq "$(cat "$work/c3.pid")" "$(r state c3 | jq -r .pid)" "--pid-file holds init's pid"
out=$(timeout 20 "$rt" --root "$root" start c3) || fail "start did not return"
expect_eq "$(r state c3 | jq -r .status)" "running" "state after start"

# 3. events --interval 1s: stats lines until stopped.
events=$(timeout 2.5 "$rt" --root "$root" events --interval 1s c3 || true)
[[ $(grep -c '"type":"stats"' <<<"$events") -ge 1 ]] || fail "events --interval 1s printed no stats: $events"

# 4. kill and delete; delete --force of ids that do not exist succeeds (cleanup code relies on it).
r kill c3 KILL
timeout 20 "$rt" --root "$root" delete --force c3 || fail "delete --force c3"
r delete --force c3 || fail "delete --force of an already deleted container"
r delete --force never-existed || fail "delete --force of a missing container"
if r delete never-existed 2>/dev/null; then fail "delete without --force of a missing container succeeded"; fi
echo "PASS: $rt"
