# wait_for CMD: polls CMD (a string for eval) every 50 ms for up to 10 s; exits with a message if
# it never succeeds (also from inside a command substitution, where set -e does not reach).
wait_for() { for _ in $(seq 200); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "timed out: $1" >&2; exit 1; }
