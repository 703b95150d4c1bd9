#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fetches the Linux guest's parts from Debian bookworm arm64 packages, nothing else:
#   linux-image-<abi>-arm64-unsigned  ->  OUT/Image (+ OUT/config, OUT/kernel-version), and
#                                         OUT/modules: the virtio-mmio, virtio-blk and virtio-net
#                                         modules and what they depend on, with their load order
#                                         (for device passthrough, docs/passthrough.md)
#   busybox-static:arm64              ->  OUT/busybox
# The .debs are kept in OUT/cache. The newest version is resolved from the local apt lists
# (apt-cache reads them without the network); when that version is already in the cache nothing is
# downloaded or unpacked, so a second run is offline and changes nothing. With no network and no
# cache it writes OUT/unavailable (the reason) and exits 0, so `make all` still works offline and
# the Linux system tests skip with that reason.
# Usage: guest/linux/fetch.sh OUT
set -euo pipefail
trap 'rm -rf "${tmp:-}"' EXIT
out=${1:?usage: fetch.sh OUT}
cache="$out/cache"
mkdir -p "$cache"
rm -f "$out/unavailable"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
log() { echo "linux-guest: $*"; }

# Nothing can have changed since the last run if the apt lists (what "newest" is resolved from)
# and this script are older than its stamp: skip apt-cache, which takes seconds.
if [ -f "$out/fetched" ] && [ -f "$out/Image" ] && [ -f "$out/busybox" ] &&
	[ -f "$out/modules/order" ] &&
	[ ! /var/lib/apt/lists -nt "$out/fetched" ] && [ ! "$0" -nt "$out/fetched" ]; then
	read -r kname kversion abi <"$out/kernel-version"
	log "kernel $kname $kversion (uname -r $abi), $(cat "$out/busybox-version") (up to date)"
	exit 0
fi

unavailable() {
	log "UNAVAILABLE: $*" >&2
	echo "$*" >"$out/unavailable"
	exit 0
}

updated=0
apt_update() {
	[ "$updated" = 1 ] && return 0
	dpkg --print-foreign-architectures | grep -qx arm64 || $sudo dpkg --add-architecture arm64
	$sudo apt-get update -q >/dev/null 2>&1 || return 1
	updated=1
}

# Prints "name version" of the candidate of $1 (an arm64 package), from the local lists.
candidate() {
	apt-cache show --no-all-versions "$1:arm64" 2>/dev/null |
		awk -v p="$1" '/^Version:/ { print p, $2; exit }'
}

# The kernel: linux-image-arm64 (the metapackage) depends on linux-image-<abi>-arm64, the signed
# image for EFI secure boot; its -unsigned twin holds the same kernel without the shim dependency.
resolve_kernel() {
	local dep
	dep=$(apt-cache depends "linux-image-arm64:arm64" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^:]*-arm64\)\(:arm64\)\{0,1\}$/\1/p' | head -n1)
	[ -n "$dep" ] && candidate "$dep-unsigned"
}

# Finds "name version" in the cache (a .deb whose control fields match), prints its path.
cached_deb() {
	local deb
	for deb in "$cache/$1"_*_arm64.deb; do
		[ -f "$deb" ] || continue
		if [ "$(dpkg-deb -f "$deb" Version)" = "$2" ]; then
			echo "$deb"
			return 0
		fi
	done
	return 1
}

# The newest cached .deb of a package name pattern (for offline runs without apt lists).
newest_cached() {
	local deb best="" bestv=""
	for deb in "$cache"/$1_*_arm64.deb; do
		[ -f "$deb" ] || continue
		local v
		v=$(dpkg-deb -f "$deb" Version)
		if [ -z "$best" ] || dpkg --compare-versions "$v" gt "$bestv"; then
			best=$deb bestv=$v
		fi
	done
	[ -n "$best" ] && echo "$best"
}

# Prints the path of the .deb for "name version", downloading it into the cache if needed.
get_deb() {
	local name=$1 version=$2 deb
	if deb=$(cached_deb "$name" "$version"); then
		echo "$deb"
		return 0
	fi
	log "downloading $name $version" >&2
	# apt-get download as root warns that _apt cannot write here; that is harmless.
	(cd "$cache" && apt-get download -q "$name:arm64=$version") 2>&1 |
		grep -v "Download is performed unsandboxed" >&2 || true
	cached_deb "$name" "$version"
}

# Resolves a package (kernel or busybox) to a cached .deb: newest version from the apt lists if
# we can, else whatever the cache holds.
fetch() {
	local what=$1 pattern=$2 nv deb
	nv=$($3 || true)
	if [ -z "$nv" ]; then
		apt_update || true
		nv=$($3 || true)
	fi
	if [ -n "$nv" ]; then
		# shellcheck disable=SC2086
		deb=$(get_deb $nv) || { apt_update && deb=$(get_deb $nv); } || deb=""
		[ -n "$deb" ] && { echo "$deb"; return 0; }
	fi
	deb=$(newest_cached "$pattern") ||
		unavailable "cannot fetch $what: no Debian arm64 package reachable and none cached in $cache"
	log "using cached $(basename "$deb") (the apt lists or the network are not available)" >&2
	echo "$deb"
}

resolve_busybox() { candidate busybox-static; }

# An empty answer means unavailable (the reason is written).
kernel_deb=$(fetch "the kernel" "linux-image-*-arm64-unsigned" resolve_kernel)
[ -n "$kernel_deb" ] || exit 0
busybox_deb=$(fetch "busybox-static" "busybox-static" resolve_busybox)
[ -n "$busybox_deb" ] || exit 0

kname=$(dpkg-deb -f "$kernel_deb" Package)
kversion=$(dpkg-deb -f "$kernel_deb" Version)
abi=${kname#linux-image-}
abi=${abi%-unsigned}
stamp="$kname $kversion $abi"

# Unpack only when the cached package changed since the last unpack.
if [ ! -f "$out/Image" ] || [ "$(cat "$out/kernel-version" 2>/dev/null)" != "$stamp" ]; then
	log "unpacking $kname $kversion"
	tmp=$(mktemp -d "$out/unpack.XXXXXX")
	# Only /boot: the modules (most of the 350 MB) are not needed, everything the guest uses is
	# built in (PL011, GICv3, arch timer, PSCI, initramfs).
	dpkg-deb --fsys-tarfile "$kernel_deb" |
		tar -x -C "$tmp" --wildcards "./boot/vmlinuz-$abi" "./boot/config-$abi"
	img="$tmp/boot/vmlinuz-$abi"
	# bookworm's vmlinuz is a plain Image with an EFI stub ("MZ" at 0, "ARM\x64" at 0x38); older or
	# other builds ship Image.gz, which QEMU's -kernel takes but ferry's loader would not.
	if [ "$(head -c2 "$img" | od -An -tx1 | tr -d ' ')" = "1f8b" ]; then
		gzip -dc <"$img" >"$tmp/Image"
	else
		mv "$img" "$tmp/Image"
	fi
	[ "$(dd if="$tmp/Image" bs=1 skip=56 count=4 2>/dev/null)" = "$(printf 'ARM\x64')" ] ||
		{ log "error: $kname $kversion: no arm64 Image magic at 0x38"; exit 1; }
	touch -r "$kernel_deb" "$tmp/Image"
	mv "$tmp/Image" "$out/Image"
	mv "$tmp/boot/config-$abi" "$out/config"
	echo "$stamp" >"$out/kernel-version"
	rm -rf "$tmp"
fi

# The modules the passthrough guest loads (docs/passthrough.md), unless the kernel has them built
# in, with every module they depend on (the `depends=` field of each .ko's .modinfo), in an order
# that loads dependencies first. Only these few files are unpacked from the package.
want_modules="virtio_mmio virtio_blk virtio_net"
if [ ! -f "$out/modules/order" ] || [ "$(cat "$out/modules/stamp" 2>/dev/null)" != "$stamp" ]; then
	log "unpacking modules: $want_modules (and their dependencies)"
	tmp=$(mktemp -d "$out/unpack.XXXXXX")
	mkdir -p "$tmp/mods"
	builtin() { grep -qx "CONFIG_$(echo "$1" | tr a-z A-Z)=y" "$out/config"; }
	modinfo_depends() { tr '\0' '\n' <"$1" | sed -n 's/^depends=//p' | tr , ' '; }
	# One pass over the package's 350 MB for every name given (each pass takes seconds).
	extract_kos() {
		local pats=() m
		for m in "$@"; do
			pats+=("./lib/modules/$abi/kernel/*/$m.ko" "./lib/modules/$abi/kernel/*/*/$m.ko")
		done
		dpkg-deb --fsys-tarfile "$kernel_deb" |
			tar -x -C "$tmp/mods" --wildcards "${pats[@]}" 2>/dev/null || true
	}
	wanted=""
	for m in $want_modules; do
		builtin "$m" || wanted="$wanted $m"
	done
	# shellcheck disable=SC2086
	[ -z "$wanted" ] || extract_kos $wanted
	order=()
	# Depth-first: a module goes into the order after everything it depends on.
	add_module() {
		local m=$1 ko dep
		case " ${order[*]} " in *" $m "*) return 0 ;; esac
		if builtin "$m"; then
			log "module $m: built in"
			return 0
		fi
		ko=$(find "$tmp/mods" -name "$m.ko" | head -n1)
		if [ -z "$ko" ]; then
			extract_kos "$m"
			ko=$(find "$tmp/mods" -name "$m.ko" | head -n1)
			[ -n "$ko" ] || { log "error: module $m: not in $kname"; exit 1; }
		fi
		for dep in $(modinfo_depends "$ko"); do
			add_module "$dep"
		done
		order+=("$m")
	}
	for m in $want_modules; do
		add_module "$m"
	done
	rm -rf "$out/modules"
	mkdir -p "$out/modules"
	for m in "${order[@]}"; do
		cp "$(find "$tmp/mods" -name "$m.ko" | head -n1)" "$out/modules/$m.ko"
	done
	printf '%s\n' "${order[@]}" >"$out/modules/order"
	echo "$stamp" >"$out/modules/stamp"
	log "modules: $(tr '\n' ' ' <"$out/modules/order")"
	rm -rf "$tmp"
fi

bname=$(dpkg-deb -f "$busybox_deb" Package)
bversion=$(dpkg-deb -f "$busybox_deb" Version)
if [ ! -f "$out/busybox" ] || [ "$(cat "$out/busybox-version" 2>/dev/null)" != "$bname $bversion" ]
then
	log "unpacking $bname $bversion"
	tmp=$(mktemp -d "$out/unpack.XXXXXX")
	dpkg-deb -x "$busybox_deb" "$tmp"
	touch -r "$busybox_deb" "$tmp/bin/busybox"
	mv "$tmp/bin/busybox" "$out/busybox"
	echo "$bname $bversion" >"$out/busybox-version"
	rm -rf "$tmp"
fi

touch "$out/fetched"
log "kernel $kname $kversion (uname -r $abi), $bname $bversion"
