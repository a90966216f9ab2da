# Sourced by the other scripts: makes sure a prebuilt static RocksDB exists in a cache
# outside the clone and points every cargo command at it, so that no cargo profile or
# target directory compiles RocksDB's C++ again (13-15 minutes each on 2 cores).
#
# Cache: $FERROKV_CACHE (default ~/.cache/ferrokv). Set FERROKV_BUILD_ROCKSDB=0 to skip.

FERROKV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FERROKV_CACHE="${FERROKV_CACHE:-$HOME/.cache/ferrokv}"

ferrokv_install_packages() {
    # libclang-dev: bindgen for librocksdb-sys. Installed only when missing and possible.
    local missing=()
    dpkg -s libclang-dev >/dev/null 2>&1 || missing+=(libclang-dev)
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    else
        echo "warning: missing packages ${missing[*]} (apt-get install them)" >&2
    fi
}

ferrokv_rocksdb_version() {
    awk '/^name = "librocksdb-sys"/ { getline; gsub(/"/, "", $3); print $3 }' \
        "$FERROKV_ROOT/.ci/rocksdb-prebuild/Cargo.lock"
}

ferrokv_prebuild_rocksdb() {
    local version lib_dir
    version="$(ferrokv_rocksdb_version)"
    lib_dir="$FERROKV_CACHE/rocksdb-$version"
    if [ ! -f "$lib_dir/librocksdb.a" ]; then
        echo "Building librocksdb.a $version once into $lib_dir (about 12-15 minutes on 2 cores)..." >&2
        ferrokv_install_packages
        CARGO_TARGET_DIR="$FERROKV_CACHE/rocksdb-target" \
            cargo build --locked --manifest-path "$FERROKV_ROOT/.ci/rocksdb-prebuild/Cargo.toml" >&2
        mkdir -p "$lib_dir"
        cp "$(find "$FERROKV_CACHE/rocksdb-target" -name librocksdb.a -path '*librocksdb-sys*' | head -n1)" "$lib_dir/librocksdb.a.tmp"
        mv "$lib_dir/librocksdb.a.tmp" "$lib_dir/librocksdb.a"
    fi
    export ROCKSDB_LIB_DIR="$lib_dir"
    export ROCKSDB_STATIC=1
}

if [ "${FERROKV_BUILD_ROCKSDB:-1}" != 0 ]; then
    ferrokv_prebuild_rocksdb
fi
