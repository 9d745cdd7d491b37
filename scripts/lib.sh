# Shared by scripts/run and scripts/test: install what is missing, build
# what is stale. Sourced, not run.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# tzdata: the zone database schedules are checked against (contract 9.1);
# Debian marks it required, but slim images may lack it.
BUILD_PACKAGES="libwebsockets-dev libjansson-dev libhiredis-dev libssl-dev meson ninja-build pkg-config gcc tzdata"

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# apt_ensure PKG...: installs the packages that are not installed yet.
apt_ensure() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "installing: ${missing[*]}" >&2
    if [ ! -f /tmp/.rostrum-apt-updated ]; then
        as_root apt-get update -q >&2 && touch /tmp/.rostrum-apt-updated
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

# build DIR [MESON_ARGS...]: configures DIR once, then lets ninja rebuild
# only what changed.
build() {
    local dir=$1; shift
    if [ ! -f "$ROOT/$dir/build.ninja" ]; then
        meson setup "$ROOT/$dir" "$ROOT" "$@" >&2
    fi
    ninja -C "$ROOT/$dir" >&2
}
