#!/bin/sh
# A stand-in for an OCI runtime in the shim's unit tests: the runc CLI verbs the shim uses, acted
# out on plain processes, so the shim's state machine can be driven without namespaces or root.
# The "container" runs `sh -c "$(cat BUNDLE/command)"`, held on a FIFO from create until start;
# an exec runs `sh -c "$(cat PROCESS_FILE)"`. BUNDLE/fail-VERB makes that verb fail with the file's
# text as a runc-style JSON log error.
set -eu
root= log=
while :; do
  case $1 in
    --root) root=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    --log-format) shift 2 ;;
    *) break ;;
  esac
done
verb=$1; shift
fail() { printf '{"level":"error","msg":"%s"}\n' "$1" >> "$log"; exit 1; }
flags_then_id() {  # sets bundle/pid_file/process/force/all and id
  bundle= pid_file= process= force= all=
  while :; do
    case $1 in
      --bundle) bundle=$2; shift 2 ;;
      --pid-file) pid_file=$2; shift 2 ;;
      --process) process=$2; shift 2 ;;
      --console-socket) shift 2 ;;
      --detach) shift ;;
      --format) shift 2 ;;
      --force) force=1; shift ;;
      --all) all=1; shift ;;
      *) break ;;
    esac
  done
  id=$1; shift
  args="$*"
  state=$root/$id
  if [ "$verb" != create ]; then
    [ -d "$state" ] || fail "container $id does not exist"
    bundle=$(cat "$state/bundle")
  fi
  if [ -e "$bundle/fail-$verb" ]; then fail "$(cat "$bundle/fail-$verb")"; fi
}
flags_then_id "$@"
case $verb in
  create)
    [ ! -e "$state" ] || fail "container $id already exists"
    mkdir -p "$state"
    mkfifo "$state/start"
    echo "$bundle" > "$state/bundle"
    sh -c 'read go < "$1"; exec sh -c "$(cat "$2/command")"' fake-init "$state/start" "$bundle" &
    echo $! > "$state/pid"
    echo $! > "$pid_file" ;;
  start) echo go > "$state/start" ;;
  exec)
    sh -c "$(cat "$process")" &
    echo $! > "$pid_file" ;;
  kill) kill -s "$(kill -l "$args")" "$(cat "$state/pid")" ;;
  pause) kill -s STOP "$(cat "$state/pid")" ;;
  resume) kill -s CONT "$(cat "$state/pid")" ;;
  ps) printf '[%s]\n' "$(cat "$state/pid")" ;;
  delete)
    pid=$(cat "$state/pid")
    if kill -0 "$pid" 2>/dev/null && [ -z "$force" ]; then fail "cannot delete container $id: it is running"; fi
    [ -z "$force" ] || kill -s KILL "$pid" 2>/dev/null || true
    rm -rf "$state" ;;
  *) fail "unknown verb $verb" ;;
esac
