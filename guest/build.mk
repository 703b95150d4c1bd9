# SPDX-License-Identifier: Apache-2.0
# Guest programs. Each adds its flat binary to GUEST_BINS (the hypervisor carries them by name).
# guest/lib first: the others link its objects, named in their prerequisites.
GUEST_BINS :=
include guest/lib/build.mk
-include $(filter-out guest/lib/build.mk,$(sort $(wildcard guest/*/build.mk)))
.PHONY: guests
guests: $(GUEST_BINS)
