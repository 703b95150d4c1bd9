#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes the Linux guest's initramfs: a gzip'ed cpio (newc) of busybox-static, /init, linstress,
# ptcheck (beside INIT), the modules fetch.sh unpacked (OUT/modules) and (when given) svecheck
# and pmucheck.
# The device nodes come from the kernel itself: its built-in initramfs (unpacked before ours) holds
# /dev/console, and /init mounts devtmpfs. So no mknod and no root are needed here.
# Usage: guest/linux/mkinitramfs.sh OUT INIT LINSTRESS [SVECHECK [PMUCHECK]]   (OUT holds busybox, gets
# initramfs.cpio.gz)
set -euo pipefail
out=${1:?usage: mkinitramfs.sh OUT INIT LINSTRESS}
init=${2:?}
linstress=${3:?}
svecheck=${4:-}
pmucheck=${5:-}

if [ ! -f "$out/busybox" ]; then
	echo "linux-guest: no busybox (see $out/unavailable): initramfs not made"
	exit 0
fi
if ! command -v cpio >/dev/null; then
	echo "linux-guest: installing cpio"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends cpio \
		>/dev/null
fi

root=$(mktemp -d "$out/root.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,root}
install -m 0755 "$out/busybox" "$root/bin/busybox"
install -m 0755 "$init" "$root/init"
install -m 0755 "$linstress" "$root/bin/linstress"
[ -z "$svecheck" ] || install -m 0755 "$svecheck" "$root/bin/svecheck"
[ -z "$pmucheck" ] || install -m 0755 "$pmucheck" "$root/bin/pmucheck"
install -m 0755 "$(dirname "$init")/ptcheck" "$root/bin/ptcheck"
# The modules fetch.sh took from Debian's kernel package, and their load order.
if [ -f "$out/modules/order" ]; then
	mkdir -p "$root/lib/modules"
	install -m 0644 "$out/modules/order" "$root/lib/modules/order"
	for m in $(cat "$out/modules/order"); do
		install -m 0644 "$out/modules/$m.ko" "$root/lib/modules/$m.ko"
	done
fi
# Same inputs, same bytes: fixed times, owners and order.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) | gzip -9n >"$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
echo "linux-guest: $out/initramfs.cpio.gz ($(stat -c %s "$out/initramfs.cpio.gz") bytes)"
