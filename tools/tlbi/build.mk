# SPDX-License-Identifier: Apache-2.0
# tools/tlbi: the TLBI decoder/planner CLI, built from the hypervisor's own planner and encoder
# sources (no archive: it must build even while other pure code is mid-change).
TLBI_TOOL_SRC := tools/tlbi/tlbi.c hyp/mm/tlbi_encode.c hyp/mm/tlbi_plan.c hyp/lib/strerror.c

$(BUILD)/tools/tlbi: $(TLBI_TOOL_SRC) hyp/mm/tlbi.h hyp/include/types.h
	@mkdir -p $(@D)
	$(HOSTCC) $(HOST_CFLAGS) -Ihyp/include -Ihyp $(TLBI_TOOL_SRC) -o $@

TOOLS += $(BUILD)/tools/tlbi
