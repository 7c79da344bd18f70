# Sourced by scripts/demo and the benchmarks: a docker-registry on 127.0.0.1 holding a busybox
# image built from Debian's busybox-static. Needs $work (a temp dir). Everything stays offline.
source "$(dirname "${BASH_SOURCE[0]}")/wait_for.sh"

# start_registry: docker-registry on a free port of 127.0.0.1, storage under $work/registry.
# Sets $registry (host:port) and $registry_pid (the caller stops it).
start_registry() {
  local port
  port=$(comm -23 <(seq 20000 40000) <(ss -ltnH | awk '{print $4}' | sed 's/.*://' | sort -n) | shuf -n1)
  registry=127.0.0.1:$port
  cat > "$work/registry.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: $registry}
YML
  docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
  registry_pid=$!
  wait_for "curl -sf http://$registry/v2/"
}

# push_busybox NAME [CMD...]: builds the image (every busybox applet linked in /bin, PATH=/bin,
# the given command as its Cmd) and pushes it as $registry/NAME.
push_busybox() {
  local name=$1; shift
  local layout="$work/oci-$RANDOM"
  umoci init --layout "$layout"
  umoci new --image "$layout:busybox"
  umoci unpack --rootless --image "$layout:busybox" "$layout-image" >/dev/null
  mkdir -p "$layout-image/rootfs/bin"
  cp /bin/busybox "$layout-image/rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -s busybox "$layout-image/rootfs/bin/$applet"
  done
  umoci repack --image "$layout:busybox" "$layout-image"
  local args=(--config.env PATH=/bin)
  for c in "$@"; do args+=(--config.cmd "$c"); done
  umoci config --image "$layout:busybox" "${args[@]}"
  skopeo copy --quiet --dest-tls-verify=false "oci:$layout:busybox" "docker://$registry/$name"
}
