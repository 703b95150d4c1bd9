/* SPDX-License-Identifier: Apache-2.0 */
/* ferry's VM state blobs (mig_vmstate.h): the vCPU registers and the VM-wide timer state,
 * encoded little-endian with a magic and a version, and decoded with every check that keeps a
 * malformed blob from becoming a guest that runs somewhere it must not (PSTATE above EL1). */
#include "migrate/mig_vmstate.h"

#include <string.h>

#include "migrate/mig_wire.h"

static const char *const reg_names[MIG_R_V0 - MIG_R_PC] = {
	"PC",
	"PSTATE",
	"SP_EL0",
	"SP_EL1",
	"ELR_EL1",
	"SPSR_EL1",
	"SCTLR_EL1",
	"CPACR_EL1",
	"TTBR0_EL1",
	"TTBR1_EL1",
	"TCR_EL1",
	"ESR_EL1",
	"AFSR0_EL1",
	"AFSR1_EL1",
	"FAR_EL1",
	"MAIR_EL1",
	"AMAIR_EL1",
	"VBAR_EL1",
	"CONTEXTIDR_EL1",
	"TPIDR_EL1",
	"TPIDR_EL0",
	"TPIDRRO_EL0",
	"CNTKCTL_EL1",
	"PAR_EL1",
	"CSSELR_EL1",
	"MDSCR_EL1",
	"CNTV_CTL_EL0",
	"CNTV_CVAL_EL0",
	"CNTP_CTL_EL0",
	"CNTP_CVAL_EL0 (relative)",
	"FPCR",
	"FPSR",
	"APIAKeyLo_EL1",
	"APIAKeyHi_EL1",
	"APIBKeyLo_EL1",
	"APIBKeyHi_EL1",
	"APDAKeyLo_EL1",
	"APDAKeyHi_EL1",
	"APDBKeyLo_EL1",
	"APDBKeyHi_EL1",
	"APGAKeyLo_EL1",
	"APGAKeyHi_EL1",
};

const char *mig_vcpu_reg_name(u32 reg)
{
	static const char *const x[31] = {
		"X0",  "X1",  "X2",  "X3",  "X4",  "X5",  "X6",  "X7",  "X8",  "X9",  "X10",
		"X11", "X12", "X13", "X14", "X15", "X16", "X17", "X18", "X19", "X20", "X21",
		"X22", "X23", "X24", "X25", "X26", "X27", "X28", "X29", "X30",
	};

	if (reg < MIG_R_PC)
		return x[reg];
	if (reg < MIG_R_V0)
		return reg_names[reg - MIG_R_PC];
	if (reg < MIG_R_ENTRY)
		return "V";
	if (reg == MIG_R_ENTRY)
		return "CPU_ON entry";
	if (reg == MIG_R_CONTEXT)
		return "CPU_ON context";
	if (reg >= MIG_R_DBGBVR0 && reg < MIG_R_OSLK) {
		static const char *const dbg[4] = { "DBGBVR<n>_EL1", "DBGBCR<n>_EL1",
						    "DBGWVR<n>_EL1", "DBGWCR<n>_EL1" };

		return dbg[(reg - MIG_R_DBGBVR0) / 16];
	}
	if (reg == MIG_R_OSLK)
		return "OSLSR_EL1.OSLK";
	return "?";
}

static void put_hdr(u8 *p, u32 magic, u16 count)
{
	put_le32(p, magic);
	put_le16(p + 4, MIG_VMSTATE_VERSION);
	put_le16(p + 6, count);
}

static int check_hdr(const u8 *p, size_t len, size_t want, u32 magic, u16 count, const char **why)
{
	if (len < 8) {
		*why = "blob shorter than its header";
		return FERRY_EINVAL;
	}
	if (get_le32(p) != magic) {
		*why = "blob of another kind";
		return FERRY_EINVAL;
	}
	if (get_le16(p + 4) != MIG_VMSTATE_VERSION) {
		*why = "blob version not understood";
		return FERRY_EINVAL;
	}
	if (get_le16(p + 6) != count || len != want) {
		*why = "blob length or register count wrong";
		return FERRY_EINVAL;
	}
	return 0;
}

int mig_vcpu_encode(u8 *buf, size_t cap, const struct mig_vcpu_state *s)
{
	if (cap < MIG_VCPU_BLOB_LEN)
		return FERRY_EINVAL;
	put_hdr(buf, MIG_BLOB_VCPU, MIG_R_NR);
	put_le32(buf + 8, s->index);
	put_le32(buf + 12, s->power);
	for (u32 i = 0; i < MIG_R_NR; i++)
		put_le64(buf + 16 + 8 * i, s->r[i]);
	return (int)MIG_VCPU_BLOB_LEN;
}

/* SPSR M[4:0] values a guest may be resumed in: AArch64 EL0t, EL1t, EL1h. Anything else (EL2, EL3,
 * AArch32) would let the blob's author run code where the guest never could. */
static bool pstate_ok(u64 spsr)
{
	u64 m = spsr & 0x1f;

	return m == 0x0 || m == 0x4 || m == 0x5;
}

int mig_vcpu_decode(const u8 *buf, size_t len, struct mig_vcpu_state *s, const char **why)
{
	int err = check_hdr(buf, len, MIG_VCPU_BLOB_LEN, MIG_BLOB_VCPU, MIG_R_NR, why);

	if (err)
		return err;
	s->index = get_le32(buf + 8);
	s->power = get_le32(buf + 12);
	for (u32 i = 0; i < MIG_R_NR; i++)
		s->r[i] = get_le64(buf + 16 + 8 * i);
	if (s->power > MIG_VCPU_ON) {
		*why = "vCPU power state unknown";
		return FERRY_EINVAL;
	}
	if (s->power == MIG_VCPU_ON && !pstate_ok(s->r[MIG_R_PSTATE])) {
		*why = "vCPU PSTATE is not AArch64 EL0 or EL1";
		return FERRY_EINVAL;
	}
	if (s->r[MIG_R_FPCR] >> 32 || s->r[MIG_R_FPSR] >> 32) {
		*why = "FPCR/FPSR wider than 32 bits";
		return FERRY_EINVAL;
	}
	if (s->r[MIG_R_OSLK] > 1) {
		*why = "OS Lock neither 0 nor 1";
		return FERRY_EINVAL;
	}
	return 0;
}

int mig_vm_encode(u8 *buf, size_t cap, const struct mig_vm_state *s)
{
	if (cap < MIG_VM_BLOB_LEN)
		return FERRY_EINVAL;
	memset(buf, 0, MIG_VM_BLOB_LEN);
	put_hdr(buf, MIG_BLOB_VM, 5);
	put_le32(buf + 8, s->nvcpus);
	put_le64(buf + 16, s->cntfrq);
	put_le64(buf + 24, s->vcount);
	put_le64(buf + 32, s->ram_base);
	put_le64(buf + 40, s->ram_size);
	return (int)MIG_VM_BLOB_LEN;
}

int mig_vm_decode(const u8 *buf, size_t len, struct mig_vm_state *s, const char **why)
{
	int err = check_hdr(buf, len, MIG_VM_BLOB_LEN, MIG_BLOB_VM, 5, why);

	if (err)
		return err;
	if (get_le32(buf + 12)) {
		*why = "reserved field not zero";
		return FERRY_EINVAL;
	}
	s->nvcpus = get_le32(buf + 8);
	s->cntfrq = get_le64(buf + 16);
	s->vcount = get_le64(buf + 24);
	s->ram_base = get_le64(buf + 32);
	s->ram_size = get_le64(buf + 40);
	if (!s->cntfrq) {
		*why = "counter frequency zero";
		return FERRY_EINVAL;
	}
	return 0;
}
