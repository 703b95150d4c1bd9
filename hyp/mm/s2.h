/* Stage-2 page tables (4K granule): a generic walker with visitors; map, unmap, protect, split,
 * lookup, DBM collection. Pure code: hardware only through arch/arch.h. docs/stage2.md. */
#ifndef FERRY_S2_H
#define FERRY_S2_H

#include "types.h"

struct s2_mm_ops {
	void *(*zalloc_page)(void *ctx);
	void (*free_page)(void *ctx, void *page);
	u64 (*virt_to_phys)(void *va);
	void *(*phys_to_virt)(u64 pa);
};

enum s2_prot_bits {
	S2_PROT_R = 1,
	S2_PROT_W = 2,
	S2_PROT_X = 4,
	S2_PROT_DEVICE = 8,
	S2_PROT_DBM = 16,
};

/* TLB maintenance a change leaves owed: the stale IPA range, the level of the changed leaves (-1 when
 * mixed). pages == 0: nothing owed. */
struct s2_flush {
	ipa_t start;
	u64 pages;
	int level;
};

typedef void (*s2_bbm_flush_fn)(void *ctx, ipa_t start, u64 pages, int level);

struct s2_pgtable {
	u64 *root;
	unsigned ia_bits, start_level, root_pages;
	u16 vmid;
	const struct s2_mm_ops *mm;
	void *mm_ctx;
	s2_bbm_flush_fn bbm;
	void *bbm_ctx;
};

int s2_init(struct s2_pgtable *pgt, unsigned ia_bits, u16 vmid, const struct s2_mm_ops *mm,
	    void *mm_ctx, s2_bbm_flush_fn bbm, void *bbm_ctx);
void s2_destroy(struct s2_pgtable *pgt);
u64 s2_vttbr(const struct s2_pgtable *pgt);
u64 s2_vtcr(const struct s2_pgtable *pgt, unsigned pa_range_field);
int s2_map(struct s2_pgtable *pgt, ipa_t ipa, pa_t pa, u64 size, unsigned prot, struct s2_flush *owed);
int s2_unmap(struct s2_pgtable *pgt, ipa_t ipa, u64 size, struct s2_flush *owed);
int s2_protect(struct s2_pgtable *pgt, ipa_t ipa, u64 size, unsigned prot, struct s2_flush *owed);
int s2_split(struct s2_pgtable *pgt, ipa_t ipa, u64 size, struct s2_flush *owed);
int s2_lookup(const struct s2_pgtable *pgt, ipa_t ipa, pa_t *pa, unsigned *prot, int *level);
int s2_collect_dbm_dirty(struct s2_pgtable *pgt, ipa_t ipa, u64 size, u64 *bitmap, u64 base);

#endif
