#!/usr/bin/env bash
# Dockerfile builds side by side in one run: `berthctl build` (berthd, RUN through berth-shim and
# berth) vs `buildah bud` (Debian's buildah, vfs storage in a temp root, runc), a 6-step Dockerfile
# on the same busybox base pulled beforehand from a local docker-registry: cold (no cache) and
# fully cached. Prints the mean times and berth/buildah ratios.
#   bench/manager/build.sh [runs]     (default 5; needs root)
set -euo pipefail
source "$(dirname "$0")/../berth_setup.sh"
runs=${1:-5}
bench_workdir buildbench
# berthd keeps its namespaces' parent cgroups under the bench's own parent: only those go.
bench_cleanup_last() { remove_cgroups_under "berth-buildbench-$$"; }
start_berthd_with_busybox --cgroup-parent "/berth-buildbench-$$"
bud=(buildah --root "$work/buildah" --runroot "$work/buildah-run" --storage-driver vfs)
"${bud[@]}" pull --quiet --tls-verify=false "$image" >/dev/null

ctx=$work/context
mkdir -p "$ctx"
head -c 4M /dev/urandom > "$ctx/data.bin"
echo "hello" > "$ctx/index.html"
cat > "$ctx/Dockerfile" <<DF
FROM $image
ENV APP=/app
WORKDIR /app
COPY index.html data.bin ./
RUN echo built > /app/stamp && ls /app > /app/list
CMD ["httpd", "-f", "-h", "/app"]
DF

hyperfine -N --runs "$runs" --export-json "$work/berth-cold.json" \
  "${ctl[*]} build -q --no-cache -t bench:cold $ctx" >/dev/null
hyperfine -N --runs "$runs" --warmup 1 --export-json "$work/berth-cached.json" \
  "${ctl[*]} build -q -t bench:cached $ctx" >/dev/null
hyperfine -N --runs "$runs" --export-json "$work/buildah-cold.json" \
  "${bud[*]} bud --quiet --isolation oci --runtime runc --no-cache --layers -t bench:cold $ctx" >/dev/null
hyperfine -N --runs "$runs" --warmup 1 --export-json "$work/buildah-cached.json" \
  "${bud[*]} bud --quiet --isolation oci --runtime runc --layers -t bench:cached $ctx" >/dev/null

ms() { jq '.results[0].mean * 1000' "$1"; }
bc=$(ms "$work/berth-cold.json"); bh=$(ms "$work/berth-cached.json")
uc=$(ms "$work/buildah-cold.json"); uh=$(ms "$work/buildah-cached.json")
printf '6-step Dockerfile (%d runs each)         berthctl build   buildah bud   ratio\n' "$runs"
printf 'cold (--no-cache)                        %9.1f ms  %9.1f ms   %.2fx\n' "$bc" "$uc" "$(echo "$bc / $uc" | bc -l)"
printf 'fully cached                             %9.1f ms  %9.1f ms   %.2fx\n' "$bh" "$uh" "$(echo "$bh / $uh" | bc -l)"
