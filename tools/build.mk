# SPDX-License-Identifier: Apache-2.0
# Host tools; each tools/<name>/build.mk adds its own targets to TOOLS.
TOOLS :=
-include $(sort $(wildcard tools/*/build.mk))
.PHONY: tools
tools: $(TOOLS)
