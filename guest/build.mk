# Guest programs. Each adds its flat binary to GUEST_BINS (the hypervisor carries them by name).
GUEST_BINS :=
-include $(sort $(wildcard guest/*/build.mk))
.PHONY: guests
guests: $(GUEST_BINS)
