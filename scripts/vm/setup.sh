#!/usr/bin/env bash
# Prepares the VM used to prove the backends this machine's kernel lacks: qemu, virtiofsd, busybox, a Debian
# cloud kernel that has kprobes, fprobe (kprobe-multi) and BPF trampolines (fentry), and an initramfs.
# Usage: scripts/vm/setup.sh [KERNEL]    KERNEL: 6.12 (default: bookworm-backports' 6.12 cloud kernel)
#                                                or 6.1 (Debian 12's own cloud kernel)
# Idempotent; everything is cached under .cache/vm/KERNEL/, apart for each kernel. Exits 77 with "SKIP: reason" when it cannot be done.
set -euo pipefail
cd "$(dirname "$0")/../.."
kernel=${1:-6.12}
# The meta package that names the kernel's image package, and what that name must start with.
case "$kernel" in
  6.12) meta=linux-image-6.12-cloud-amd64 ;;
  6.1) meta=linux-image-cloud-amd64 ;;
  *) echo "scripts/vm/setup.sh: unknown kernel '$kernel' (known: 6.12, 6.1)" >&2; exit 2 ;;
esac
cache=.cache/vm/$kernel
mkdir -p "$cache"

skip() { echo "SKIP: $*"; exit 77; }

need=()
for p in qemu-system-x86 busybox-static cpio kmod; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || skip "needs root to install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 || skip "cannot install ${need[*]}"
fi
[ -x /usr/lib/qemu/virtiofsd ] || skip "virtiofsd not found at /usr/lib/qemu/virtiofsd"

# The kernel image and its modules (veth and nftables are modules there; the guest loads them with
# modprobe -d from .cache/vm/KERNEL/modules).
if [ ! -f "$cache/vmlinuz" ] || [ ! -f "$cache/modules/ready" ]; then
  apt-get update -qq >/dev/null 2>&1 || true
  pkg=$(apt-cache depends "$meta" 2>/dev/null | awk '/Depends: linux-image-/{print $2; exit}')
  [ -n "$pkg" ] || skip "no $meta package in the apt sources"
  case "$pkg" in
    "linux-image-$kernel".*) ;;
    *) skip "$meta names $pkg, not a $kernel kernel" ;;
  esac
  rm -rf "$cache/deb" "$cache/kernel" && mkdir -p "$cache/deb"
  (cd "$cache/deb" && apt-get download "$pkg" >/dev/null 2>&1) || skip "cannot download $pkg"
  dpkg -x "$cache"/deb/*.deb "$cache/kernel"
  cp "$cache"/kernel/boot/vmlinuz-* "$cache/vmlinuz"
  rm -rf "$cache/modules" && mkdir -p "$cache/modules/lib"
  mv "$cache"/kernel/lib/modules "$cache/modules/lib/modules"
  ver=$(ls "$cache/modules/lib/modules")
  depmod -b "$cache/modules" "$ver" || skip "depmod failed for $ver"
  touch "$cache/modules/ready"
  echo "$pkg" >"$cache/kernel-package"
  rm -rf "$cache/deb" "$cache/kernel"
fi

# The initramfs: busybox, and an /init that mounts the host's root (virtiofs) and runs one command in it.
# Where virtiofs and virtio-pci are modules of this kernel (6.1), they go in too (/modules, loaded in order).
if [ ! -f "$cache/initramfs.gz" ] || [ scripts/vm/init -nt "$cache/initramfs.gz" ] ||
  [ scripts/vm/setup.sh -nt "$cache/initramfs.gz" ]; then
  root="$cache/initramfs"
  rm -rf "$root" && mkdir -p "$root"/{bin,dev,proc,sys,mnt,tmp,modules}
  cp /bin/busybox "$root/bin/busybox"
  for a in sh mount umount mkdir chroot cat echo poweroff sleep ls insmod; do ln -sf busybox "$root/bin/$a"; done
  ver=$(ls "$cache/modules/lib/modules")
  n=0
  for ko in $(modprobe -d "$cache/modules" -S "$ver" --show-depends -a virtio_pci virtiofs |
    awk '$1 == "insmod" && !seen[$2]++ { print $2 }'); do
    n=$((n + 1))
    out="$root/modules/$(printf %02d $n)-$(basename "${ko%%.ko*}").ko"
    case "$ko" in
      *.ko.xz) xz -dc "$ko" >"$out" ;;
      *.ko.zst) zstd -qdc "$ko" >"$out" ;;
      *) cp "$ko" "$out" ;;
    esac
  done
  cp scripts/vm/init "$root/init"
  chmod +x "$root/init"
  (cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$cache/initramfs.gz"
  rm -rf "$root"
fi
echo "vm ready: kernel $kernel, $(cat "$cache/kernel-package")"
