#!/usr/bin/env bash
# Builds a minimal Debian bookworm root filesystem as an uncompressed tar, without any
# registry: `debootstrap --variant=minbase` from the Debian mirror apt already uses on this
# machine, then the files the engine provides at run time (hostname, resolv.conf, device
# nodes) and apt's caches are taken out, as in Docker's debian images. Owners are kept as
# numbers. Import it with
#   docker import OUT.tar debian:bookworm     (or POST /images/create?fromSrc=-)
set -euo pipefail

SUITE=bookworm

usage() {
    cat <<EOF
Usage: scripts/mkrootfs-debian.sh OUT.tar

Writes a Debian $SUITE minbase root filesystem (uncompressed tar, numeric owners) to OUT.tar.
Runs as root; installs debootstrap with apt-get if missing. Takes a few minutes.
MIRROR overrides the Debian mirror (default: the one in apt's sources for $SUITE).
EOF
}

case ${1:-} in
-h | --help) usage; exit 0 ;;
"" | -*) usage >&2; exit 2 ;;
esac
(($# == 1)) || { usage >&2; exit 2; }
out=$1
((EUID == 0)) || { echo "debootstrap needs root" >&2; exit 1; }

work=""
# Unmounts whatever debootstrap left mounted inside the target (deepest first), then
# removes the work dir without crossing into any mount that refused to go.
cleanup() {
    [[ -n $work && -d $work ]] || return 0
    local real mp
    real=$(realpath "$work")
    awk -v d="$real" 'index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
        while read -r mp; do
            umount "$mp" 2>/dev/null || umount -l "$mp" || echo "could not unmount $mp" >&2
        done
    rm -rf --one-file-system "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The http(s) URI of the first apt source that serves the plain $SUITE suite, from
# one-line sources (sources.list, *.list) or deb822 ones (*.sources).
apt_mirror() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r $f ]] || continue
        awk -v suite="$SUITE" '
            $1 == "deb" {
                i = 2
                if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
                if ($(i + 1) == suite) { print $i; exit }
            }' "$f"
    done
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r $f ]] || continue
        awk -v suite="$SUITE" '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "") {
                    split(uris, u, " "); print u[1]; found = 1
                }
                types = suites = uris = ""
            }
            /^[ \t]*$/ { flush(); if (found) exit; next }
            /^[ \t]*#/ { next }
            tolower($1) == "types:" { $1 = ""; types = $0 }
            tolower($1) == "suites:" { $1 = ""; suites = $0 }
            tolower($1) == "uris:" { $1 = ""; uris = $0 }
            END { if (!found) flush() }' "$f"
    done
}

mirror=${MIRROR:-$(apt_mirror | grep -m1 -E '^https?://' || true)}
[[ -n $mirror ]] || { echo "no apt source for $SUITE found; set MIRROR=http://..." >&2; exit 1; }

if ! command -v debootstrap >/dev/null; then
    echo "installing debootstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

work=$(mktemp -d "${TMPDIR:-/var/tmp}/mkrootfs-debian.XXXXXX")
root=$work/root
echo "debootstrap --variant=minbase $SUITE from $mirror (log: $work/debootstrap.log)" >&2
if ! debootstrap --variant=minbase "$SUITE" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    [[ -f $root/debootstrap/debootstrap.log ]] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
    echo "debootstrap failed" >&2
    exit 1
fi

# What the engine provides, or what only bloats an image: out, as in Docker's debian images.
rm -rf "${root:?}"/dev/* "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
    "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/tmp/* "$root"/var/tmp/*
: >"$root/etc/hostname"
rm -f "$root/etc/resolv.conf"
mkdir -p "$root/var/lib/apt/lists/partial"
chmod 1777 "$root/tmp" "$root/var/tmp"

tar -C "$root" --create --file "$work/rootfs.tar" --sort=name --numeric-owner \
    --xattrs --xattrs-include='security.capability' --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime .
mv -f "$work/rootfs.tar" "$out"
echo "wrote $out ($(du -m "$out" | cut -f1) MiB)" >&2
