# Sourced by the bench scripts (from the repository root): the built Berth binaries as absolute
# paths in $berth $shim $berthd $berthctl, from $BUILD (default build); refuses to go on without them.
build=${BUILD:-build}
berth=$(realpath "$build/runtime/berth"); shim=$(realpath "$build/shim/berth-shim")
berthd=$(realpath "$build/manager/berthd"); berthctl=$(realpath "$build/cli/berthctl")
for f in "$berth" "$shim" "$berthd" "$berthctl"; do [[ -x $f ]] || { echo "build first: $f" >&2; exit 1; }; done
