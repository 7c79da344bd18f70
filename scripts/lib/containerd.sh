# Sourced by the benchmarks: a private containerd (its own root, state and socket under DIR, CRI
# off), so comparisons never touch a system containerd.
source "$(dirname "${BASH_SOURCE[0]}")/wait_for.sh"

# start_containerd DIR: starts it with its socket at DIR/c.sock; sets $ctrd_pid (the caller
# stops it and unmounts DIR/root).
start_containerd() {
  local d=$1
  mkdir -p "$d"
  cat > "$d/config.toml" <<TOML
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$d/c.sock"
TOML
  containerd --config "$d/config.toml" >"$d/log" 2>&1 &
  ctrd_pid=$!
  wait_for "ctr --address $d/c.sock version"
}
