# SPDX-License-Identifier: Apache-2.0
# guest/linux: the Linux guest recipe (docs/linux-guest.md). From Debian bookworm arm64 packages
# only: the kernel Image and busybox-static (guest/linux/fetch.sh, cached in $(LINUX_OUT)/cache),
# plus linstress, our static test program, in a gzip'ed cpio initramfs with guest/linux/init.
# Included twice (guest/build.mk takes every guest/*/build.mk, the top Makefile names this one):
# the guard keeps one copy of each rule.
ifndef LINUX_GUEST_MK
LINUX_GUEST_MK := 1
LINUX_OUT := $(BUILD)/guest/linux
LINUX_CFLAGS := -std=c11 -O2 -g $(WARN) -static

EXTRA_ALL += linux-guest
.PHONY: linux-guest linux-fetch

linux-guest: $(LINUX_OUT)/initramfs.cpio.gz

# fetch.sh decides itself whether anything changed (cheap when nothing did); it keeps the mtimes
# of Image and busybox from the packages, so the initramfs is remade only when they change.
linux-fetch:
	@guest/linux/fetch.sh $(LINUX_OUT)

$(LINUX_OUT)/busybox $(LINUX_OUT)/Image $(LINUX_OUT)/modules/order: linux-fetch

# The aarch64 glibc for a static program is Debian's cross libc (libc6-dev-arm64-cross).
$(LINUX_OUT)/linstress: guest/linux/linstress.c
	@mkdir -p $(@D)
	@[ -f /usr/aarch64-linux-gnu/lib/libc.a ] || DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends libc6-dev-arm64-cross
	$(TCC) $(LINUX_CFLAGS) $< -o $@

# svecheck: SVE registers across context switches and migrations (no FP/SIMD in its own code).
$(LINUX_OUT)/svecheck: guest/linux/svecheck.c $(LINUX_OUT)/linstress
	$(TCC) $(LINUX_CFLAGS) -mgeneral-regs-only $< -o $@

# pmucheck: cycles and instructions through perf_event_open, as `perf stat` counts them.
$(LINUX_OUT)/pmucheck: guest/linux/pmucheck.c $(LINUX_OUT)/linstress
	$(TCC) $(LINUX_CFLAGS) $< -o $@

$(LINUX_OUT)/initramfs.cpio.gz: $(LINUX_OUT)/busybox $(LINUX_OUT)/linstress $(LINUX_OUT)/svecheck \
		$(LINUX_OUT)/pmucheck \
		$(LINUX_OUT)/modules/order guest/linux/init guest/linux/ptcheck guest/linux/mkinitramfs.sh
	@guest/linux/mkinitramfs.sh $(LINUX_OUT) guest/linux/init $(LINUX_OUT)/linstress \
		$(LINUX_OUT)/svecheck $(LINUX_OUT)/pmucheck
endif
