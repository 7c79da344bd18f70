#!/usr/bin/env bash
# Runs docs/getting-started.md as a reader would, so the page cannot go stale:
#   - every ```sh block, line by line (a block right after "<!-- docs-test: skip -->" is not run:
#     package installs and copies into /usr/local/bin);
#   - every "$ command" line of the other blocks, expecting exit 0, or a failure when the doc's next
#     line is a "berthctl:" error, which must then read as printed (the doc's registry address
#     swapped for ours); "$ echo $?" must print what the doc prints; `run -it` gets the doc's "/ # "
#     lines as its typed input, on a pty; `logs -f` is left after 2 s (it follows until Ctrl-C).
# berthd runs with a private root, state, socket and cgroup parent (a function named berthd adds
# them, so the doc's own `berthd &` starts it); nothing system-wide is used or left behind.
#   getting_started_test.sh REPO_ROOT BUILD_DIR
set -uo pipefail
repo=$(realpath "$1"); build=$(realpath "$2")
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root"; exit 77; }
doc=$repo/docs/getting-started.md
cd "$repo"

set -a  # what the doc assigns is exported: `script` runs `run -it` in a new shell
docs_work=$(mktemp -d /tmp/berth-docs.XXXXXX)
parent=berth-docs-$$
export BERTH_HOST=unix://$docs_work/berthd.sock
berthd() { command berthd --root "$docs_work/root" --state "$docs_work/state" --address "$docs_work/berthd.sock" \
  --cgroup-parent "/$parent" "$@" >"$docs_work/berthd.log" 2>&1; }
cleanup() {
  set +e
  [[ -S $docs_work/berthd.sock ]] && berthctl ps -a -q 2>/dev/null | xargs -r berthctl rm -f >/dev/null 2>&1
  jobs -p | xargs -r kill 2>/dev/null
  # The doc's `berthd &` runs our berthd function in a subshell: berthd is that subshell's child,
  # found by the socket path only it has.
  pkill -f -- "--address $docs_work/berthd.sock" 2>/dev/null
  for _ in $(seq 100); do pgrep -f -- "--address $docs_work/berthd.sock" >/dev/null || break; sleep 0.1; done
  [[ -n ${registry_pid:-} ]] && kill "$registry_pid" 2>/dev/null
  wait 2>/dev/null
  grep -o " $docs_work[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null
  find /sys/fs/cgroup -depth -type d -path "*/$parent*" -exec rmdir {} \; 2>/dev/null
  rm -rf "$docs_work"
  [[ ${work:-} == /tmp/tmp.* ]] && rm -rf "$work"  # the doc's own `work=$(mktemp -d)`
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The doc's binaries are the ones under test: PATH as its section 1 sets it, for this build dir.
export PATH=$build/manager:$build/cli:$build/shim:$build/runtime:$PATH
doc_registry=
last=0

run_shell_line() {  # a line of a ```sh block
  local line=$1
  [[ $line =~ ^export\ PATH= ]] && return  # done above, for $build (the doc assumes build/)
  echo "+ $line"
  eval "$line"
  local code=$?
  [[ $code == 0 ]] || fail "exit $code: $line"
  [[ $line == "berthd &"* ]] && { source scripts/lib/wait_for.sh; wait_for "berthctl version"; }
  return 0
}

run_dollar_line() {  # "$ command" with the lines the doc shows after it (output, then "/ # " input)
  local cmd=$1 expected=$2 input=$3 out code
  [[ -n $doc_registry ]] && expected=${expected//$doc_registry/$registry}
  echo "\$ $cmd"
  if [[ $cmd == 'echo $?' ]]; then
    [[ $last == "${expected%%$'\n'*}" ]] || fail "echo \$?: $last, the doc says ${expected%%$'\n'*}"
    return
  fi
  if [[ $cmd == *" -it "* ]]; then
    out=$(printf '%s\n' "$input" | script -qefc "$cmd" /dev/null 2>&1); code=$?
  elif [[ $cmd == *"logs -f "* ]]; then
    out=$(timeout 2 bash -c "$cmd" 2>&1); code=$?
    [[ $code == 124 ]] && code=0
  else
    out=$(eval "$cmd" 2>&1); code=$?
  fi
  last=$code
  local first=${expected%%$'\n'*}
  if [[ $first == berthctl:* ]]; then
    [[ $code != 0 ]] || fail "$cmd: exit 0, the doc shows an error"
    [[ $out == *"$first"* ]] || fail "$cmd: printed [$out], the doc shows [$first]"
  elif [[ $cmd != *" -it "* && $code != 0 ]]; then
    fail "$cmd: exit $code: $out"
  fi
}

in_block=0 block_kind= skip_next=0 skip_block=0
pending_cmd= pending_out= pending_in=
flush() {
  [[ -n $pending_cmd ]] && run_dollar_line "$pending_cmd" "$pending_out" "$pending_in"
  pending_cmd= pending_out= pending_in=
}
while IFS= read -r line; do
  if ((!in_block)); then
    [[ $line == '<!-- docs-test: skip -->' ]] && skip_next=1
    if [[ $line =~ ^\`\`\`(.*)$ ]]; then
      in_block=1 block_kind=${BASH_REMATCH[1]} skip_block=$skip_next skip_next=0
    fi
    continue
  fi
  if [[ $line == '```' ]]; then
    flush
    in_block=0
    continue
  fi
  ((skip_block)) && continue
  if [[ $block_kind == sh ]]; then
    run_shell_line "$line"
  elif [[ $line == '$ '* ]]; then
    flush
    pending_cmd=${line#\$ }
  elif [[ $line == '/ # '* ]]; then
    pending_in+=${line#/ # }$'\n'
  elif [[ -n $pending_cmd ]]; then
    pending_out+=$line$'\n'
  fi
  # The doc's registry address: the first host:port it prints for the pulled image.
  if [[ -z $doc_registry && $line =~ (127\.0\.0\.1:[0-9]+)/library/busybox ]]; then
    doc_registry=${BASH_REMATCH[1]}
  fi
done < "$doc"

[[ -n $doc_registry ]] || fail "never found the doc's registry address"
if ((failures)); then
  echo "$failures command(s) of docs/getting-started.md did not do what the page says"
  exit 1
fi
echo "PASS: every command of docs/getting-started.md"
