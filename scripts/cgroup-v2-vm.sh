#!/usr/bin/env bash
# Runs a command on a pure cgroup v2 kernel: boots a throwaway virtual machine (KVM, or
# TCG emulation where there is no hardware KVM) whose root is this host's own root
# filesystem (read-only over 9p, under a tmpfs overlay so it is writable), mounts cgroup2 at
# /sys/fs/cgroup, runs the command as root in the same directory with the same environment
# (but TMPDIR), powers off and exits with the command's status. Nothing the VM writes
# reaches the host.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/cgroup-v2-vm.sh COMMAND [ARG...]

Boots a VM (Debian kernel, cgroup v2 only, no network but loopback) on this host's root
filesystem and runs COMMAND there as root, with TMPDIR=/run/tmp (a tmpfs); exits with its
status (125 when the VM itself failed). The root is writable, but nothing reaches the host.
Installs qemu-system-x86 and linux-image-amd64 with apt-get when missing (needs root).

Environment:
  BERTH_VM_TIMEOUT   seconds before the VM is killed (default 600)
  BERTH_VM_MEMORY    guest memory (default 2G)     BERTH_VM_CPUS   vCPUs (default 2)
  BERTH_VM_ACCEL     auto (default: kvm when /dev/kvm is hardware KVM, else tcg), kvm, tcg
  BERTH_VM_DEBUG=1   show the kernel's boot messages and keep the work directory
EOF
}

# Inside the VM this same file is the init process's second stage.
if [[ ${1:-} == --guest-stage2 ]]; then
    shift
    share=$1
    mount -t proc proc /proc
    mount -t sysfs sysfs /sys
    mount -t devtmpfs devtmpfs /dev
    mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 /sys/fs/cgroup
    mkdir -p /dev/pts /dev/shm /dev/mqueue
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts /dev/pts
    ln -sf pts/ptmx /dev/ptmx
    mount -t tmpfs -o mode=1777 shm /dev/shm
    mount -t mqueue mqueue /dev/mqueue
    # Overlayfs cannot take an upper layer on the overlay root, so temporary files (a
    # daemon's data root) go to the /run tmpfs: TMPDIR, set in command.sh.
    mkdir -m 1777 /run/tmp
    ln -sf /proc/self/fd /dev/fd
    ln -sf /proc/self/fd/0 /dev/stdin
    ln -sf /proc/self/fd/1 /dev/stdout
    ln -sf /proc/self/fd/2 /dev/stderr
    ip link set lo up
    hostname berth-cgroup-v2
    stty -onlcr 2>/dev/null </dev/console || true
    set +e
    bash "$share/command.sh" </dev/null
    status=$?
    set -e
    dmesg >"$share/dmesg" 2>&1 || true
    echo "$status" >"$share/status"
    sync
    umount "$share" 2>/dev/null || true
    exec busybox poweroff -f
fi

case ${1:-} in
-h | --help) usage; exit 0 ;;
"") usage >&2; exit 2 ;;
esac

die() { echo "cgroup-v2-vm: $*" >&2; exit 125; }

timeout_s=${BERTH_VM_TIMEOUT:-600}
memory=${BERTH_VM_MEMORY:-2G}
cpus=${BERTH_VM_CPUS:-2}
accel=${BERTH_VM_ACCEL:-auto}
debug=${BERTH_VM_DEBUG:-0}

# KVM only when it is hardware KVM: a PVM /dev/kvm (kvm_pvm, as on some nested CI hosts)
# boots only PVM-built guest kernels, and Debian's hangs there before its first message.
kvm_usable() {
    [[ -r /dev/kvm && -w /dev/kvm ]] && [[ -d /sys/module/kvm_intel || -d /sys/module/kvm_amd ]]
}
if [[ $accel == auto ]]; then
    if kvm_usable; then
        accel=kvm
    else
        accel=tcg
        modules=$(cd /sys/module && echo kvm_*)
        echo "cgroup-v2-vm: no hardware KVM here (modules: $modules), emulating with TCG" >&2
    fi
fi
case $accel in
kvm)
    [[ -e /dev/kvm ]] || die "/dev/kvm does not exist: this host cannot run KVM guests (BERTH_VM_ACCEL=tcg emulates)"
    [[ -r /dev/kvm && -w /dev/kvm ]] || die "/dev/kvm is not readable and writable by $(id -un)"
    # arch-capabilities off: some nested KVMs refuse its MSR.
    cpu_args=(-accel kvm -cpu "host,-arch-capabilities")
    ;;
tcg) cpu_args=(-accel "tcg,thread=multi" -cpu max) ;;
*) die "BERTH_VM_ACCEL must be auto, kvm or tcg, not $accel" ;;
esac
((EUID == 0)) || die "needs root (the VM's init runs the command as root on this host's files)"

# A Debian kernel whose 9p and virtio drivers are modules we can load from an initramfs.
kernel_version() {
    local config v
    for config in $(printf '%s\n' /boot/config-* | sort -rV); do
        [[ -r $config ]] || continue
        v=${config#/boot/config-}
        if grep -qE '^CONFIG_NET_9P_VIRTIO=(m|y)$' "$config" && grep -qE '^CONFIG_9P_FS=(m|y)$' "$config" &&
            [[ -r /boot/vmlinuz-$v && -d /lib/modules/$v ]]; then
            echo "$v"
            return
        fi
    done
}
need=()
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
[[ -n $(kernel_version) ]] || need+=(linux-image-amd64)
if ((${#need[@]})); then
    echo "cgroup-v2-vm: installing ${need[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 >/dev/null
fi
kver=$(kernel_version)
[[ -n $kver ]] || die "no kernel with 9p over virtio in /boot"

work=$(mktemp -d "${TMPDIR:-/tmp}/cgroup-v2-vm.XXXXXX")
qemu_pid=""
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    [[ -n $qemu_pid ]] && kill "$qemu_pid" 2>/dev/null
    if [[ $debug == 1 ]]; then echo "cgroup-v2-vm: work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The initramfs: static busybox, the modules that reach the root over 9p, and /init.
initrd_root=$work/initramfs
mkdir -p "$initrd_root"/{bin,dev,proc,sys,lower,rw,newroot,modules}
busybox=$(dpkg -L busybox-static 2>/dev/null | grep -m1 -E '/bin/busybox$' || true)
[[ -x $busybox ]] || die "busybox-static is not installed (scripts/install-deps.sh installs it)"
cp "$busybox" "$initrd_root/bin/busybox"
mknod -m 600 "$initrd_root/dev/console" c 5 1
modules=()
for m in virtio_pci 9pnet_virtio 9p overlay virtio_rng; do
    while read -r verb path _; do
        [[ $verb == insmod ]] || continue
        name=$(basename "$path")
        [[ " ${modules[*]} " == *" $name "* ]] && continue
        cp "$path" "$initrd_root/modules/$name"
        modules+=("$name")
    done < <(modprobe -S "$kver" --show-depends "$m")
done
cat >"$initrd_root/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "cgroup-v2-vm init: \$*"; poweroff -f; }
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in ${modules[*]}; do insmod /modules/\$m || fail "insmod \$m"; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose hostroot /lower || fail "mount the host root"
mount -t tmpfs -o mode=0755 rw /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work root /newroot || fail "mount the overlay root"
mount -t tmpfs -o mode=0755 run /newroot/run
mkdir -p /newroot/run/cgroup-v2-vm
mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 share /newroot/run/cgroup-v2-vm || fail "mount the share"
umount /proc /sys /dev
exec switch_root /newroot /bin/bash $(printf %q "$(readlink -f "$0")") --guest-stage2 /run/cgroup-v2-vm
EOF
chmod 755 "$initrd_root/init"
(cd "$initrd_root" && find . -print0 | cpio --null --create --format=newc --quiet) >"$work/initrd.img"

# The command, in the same directory with the same environment.
share=$work/share
mkdir -p "$share"
{
    printf 'cd -- %q || exit 125\n' "$PWD"
    printf 'exec env -i --'
    while IFS= read -r -d '' kv; do
        printf ' %q' "$kv"
    done < <(env -0)
    printf ' TMPDIR=/run/tmp'
    printf ' %q' "$@"
    printf '\n'
} >"$share/command.sh"

if [[ $debug == 1 ]]; then
    quiet="loglevel=7"
else
    quiet="quiet loglevel=1"
fi
cmdline="console=ttyS0 $quiet panic=-1 rdinit=/init cgroup_no_v1=all systemd.unified_cgroup_hierarchy=1 8250.nr_uarts=1"
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
    -nodefaults -no-user-config -no-reboot \
    -machine q35 "${cpu_args[@]}" -smp "$cpus" -m "$memory" \
    -display none -nic none -monitor none \
    -chardev stdio,id=console,signal=off -serial chardev:console \
    -kernel "/boot/vmlinuz-$kver" -initrd "$work/initrd.img" -append "$cmdline" \
    -fsdev local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap \
    -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
    -fsdev local,id=share,path="$share",security_model=none \
    -device virtio-9p-pci,fsdev=share,mount_tag=share \
    -device virtio-rng-pci \
    </dev/null &
qemu_pid=$!
set +e
wait "$qemu_pid"
qemu_status=$?
set -e
qemu_pid=""
if [[ ! -s $share/status ]]; then
    ((qemu_status == 124)) && echo "cgroup-v2-vm: the VM ran out of its ${timeout_s}s (BERTH_VM_TIMEOUT)" >&2
    [[ -s $share/dmesg ]] && cat "$share/dmesg" >&2
    die "the VM stopped without the command's exit status (qemu exited $qemu_status)"
fi
exit "$(cat "$share/status")"
