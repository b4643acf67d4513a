#!/usr/bin/env bash
# Builds a busybox root filesystem as an uncompressed, reproducible tar, without any registry:
# Debian's static busybox plus one hard link per applet in /bin, laid out like Docker's
# official busybox image (/bin, /dev, /etc, /home, /proc, /root, /sys, /tmp, /usr/sbin,
# /var/spool/mail, /var/www). Every entry is owned by 0:0 and stamped with SOURCE_DATE_EPOCH,
# so the same busybox gives the same bytes. Import it with
#   docker import OUT.tar busybox:latest      (or POST /images/create?fromSrc=-)
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/mkrootfs-busybox.sh OUT.tar

Writes a busybox root filesystem (uncompressed tar, entries owned by 0:0) to OUT.tar.
Needs Debian's busybox-static (installed with apt-get if missing, which needs root).
SOURCE_DATE_EPOCH sets the entries' mtime (default 0: reproducible output).
EOF
}

case ${1:-} in
-h | --help) usage; exit 0 ;;
"" | -*) usage >&2; exit 2 ;;
esac
(($# == 1)) || { usage >&2; exit 2; }
out=$1
mtime=${SOURCE_DATE_EPOCH:-0}
[[ $mtime =~ ^[0-9]+$ ]] || { echo "SOURCE_DATE_EPOCH must be a number of seconds" >&2; exit 2; }

work=""
cleanup() { [[ -n $work ]] && rm -rf "$work"; }
trap cleanup EXIT

# The static busybox from the busybox-static package (a dynamic one would need a libc in the root).
busybox_path() { dpkg -L busybox-static 2>/dev/null | grep -m1 -E '/bin/busybox$' || true; }
if ! dpkg -s busybox-static >/dev/null 2>&1; then
    ((EUID == 0)) || { echo "busybox-static is not installed and installing it needs root" >&2; exit 1; }
    echo "installing busybox-static" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >/dev/null
fi
busybox=$(busybox_path)
[[ -x $busybox ]] || { echo "busybox-static installed but no busybox binary found" >&2; exit 1; }
ldd_says=$(LC_ALL=C ldd "$busybox" 2>&1 || true)
if [[ $ldd_says != *"not a dynamic executable"* && $ldd_says != *"statically linked"* ]]; then
    echo "$busybox is dynamically linked: it would not run in a root with no libc" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/mkrootfs-busybox.XXXXXX")
root=$work/root
umask 022
mkdir -p "$root"/{bin,dev,etc,home,proc,root,sys,tmp,usr/sbin,var/spool/mail,var/www}
chmod 0700 "$root/root"
chmod 1777 "$root/tmp"

install -m 0755 "$busybox" "$root/bin/busybox"
applets=$("$root/bin/busybox" --list)
[[ -n $applets ]] || { echo "busybox --list printed nothing" >&2; exit 1; }
while read -r applet; do
    [[ $applet == busybox || $applet == */* || -z $applet ]] && continue
    ln "$root/bin/busybox" "$root/bin/$applet"
done <<<"$applets"

# Accounts as in Docker's busybox image; the engine writes /etc/hosts, hostname, resolv.conf.
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
cdrom:x:11:
dialout:x:18:
floppy:x:19:
video:x:28:
audio:x:29:
tape:x:32:
www-data:x:33:
operator:x:37:
utmp:x:43:
plugdev:x:46:
staff:x:50:
lock:x:54:
netdev:x:82:
users:x:100:
nogroup:x:65534:
EOF
cat >"$root/etc/shadow" <<'EOF'
root:*:0:0:99999:7:::
daemon:*:0:0:99999:7:::
bin:*:0:0:99999:7:::
sys:*:0:0:99999:7:::
sync:*:0:0:99999:7:::
mail:*:0:0:99999:7:::
www-data:*:0:0:99999:7:::
operator:*:0:0:99999:7:::
nobody:*:0:0:99999:7:::
EOF
chmod 0644 "$root/etc/passwd" "$root/etc/group"
chmod 0640 "$root/etc/shadow"

# Entry order is fixed by hand: bin/busybox first so it is the regular file and every
# applet a hard link to it; the rest in byte order.
(
    cd "$root"
    echo bin
    echo bin/busybox
    find . -mindepth 1 ! -path ./bin ! -path ./bin/busybox -printf '%P\n' | LC_ALL=C sort
) >"$work/list"
tar -C "$root" --create --file "$work/rootfs.tar" --no-recursion --verbatim-files-from \
    --files-from "$work/list" --format=gnu --numeric-owner --owner=0 --group=0 \
    --mtime="@$mtime"
mv -f "$work/rootfs.tar" "$out"
echo "wrote $out ($(wc -l <"$work/list") entries, $(du -k "$out" | cut -f1) KiB)" >&2
