#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian package ferry needs, and Debian's arm64 libfdt.a, libsodium.a and
# xxhash.h into build/sysroot.
# Idempotent: a second run with everything present installs nothing and needs no network.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
sysroot="$top/build/sysroot"

# Host packages. libfdt-dev (amd64, for the host unit tests and tools) conflicts with
# libfdt-dev:arm64, so the arm64 library is downloaded and unpacked into build/sysroot instead.
pkgs=(make gcc gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu picolibc-aarch64-linux-gnu
      qemu-system-arm device-tree-compiler libfdt-dev libsodium-dev libxxhash-dev libcmocka-dev
      python3 python3-pytest python3-pexpect python3-matplotlib clang libclang-rt-14-dev
      clang-format)

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

updated=0
apt_update() { [ "$updated" = 1 ] || { $sudo apt-get update -q; updated=1; }; }

if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  apt_update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Static arm64 libraries linked into the EL2 image, unpacked (not installed: their -dev packages
# conflict with the amd64 ones the host tests use). libsodium authenticates the migration link
# (docs/migration-protocol.md, "Authentication").
fetch_arm64() { # package, file it provides
  [ -f "$sysroot/usr/lib/aarch64-linux-gnu/$2" ] && return 0
  echo "deps: fetching Debian's arm64 $2 into build/sysroot"
  dpkg --print-foreign-architectures | grep -qx arm64 || { $sudo dpkg --add-architecture arm64; updated=0; }
  apt_update
  dl=$(mktemp -d)
  (cd "$dl" && apt-get download -q "$1:arm64" 2>&1 | grep -v "^W: Download is performed unsandboxed" || true)
  deb=$(ls "$dl"/"$1"_*_arm64.deb)
  mkdir -p "$sysroot"
  dpkg-deb -x "$deb" "$sysroot"
  rm -rf "$dl"
}
fetch_arm64 libfdt-dev libfdt.a
fetch_arm64 libsodium-dev libsodium.a
# xxhash.h only: ferry compiles XXH3 from it with its own flags (hyp/lib/xxh.c says why).
fetch_arm64 libxxhash-dev libxxhash.a
echo "deps: ok"
