/* SPDX-License-Identifier: Apache-2.0 */
/* Virtual network links in the config (`vnet`, `vnet-mac`; docs/vnet.md): each VM's end is read
 * with its node, and the links are matched up once every VM is known. Pure code (libfdt only). */
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "config/parser.h"

/* `vnet = "peer"` and `vnet-mac = [6 bytes]`: this VM's end of a link. The peer is resolved once
 * every VM is known (config_check_vnet_links). */
int config_parse_vnet(struct config_parser *p, int node, struct vm_config *vm, u32 index)
{
	int len, err;
	const u8 *mac = config_prop_get(p, node, "vnet-mac", &len);

	err = config_prop_string(p, node, "vnet", false, false, vm->vnet_peer,
				 sizeof(vm->vnet_peer));
	if (err == FERRY_ENOENT) {
		vm->vnet_peer[0] = 0;
		if (mac)
			return config_fail(p, "vnet-mac", "given without 'vnet'");
		return 0;
	}
	if (err)
		return fdt_stringlist_count(p->fdt, node, "vnet") > 1
			       ? config_fail(p, "vnet", "one link per VM (names one peer VM)")
			       : err;
	vm->has_vnet = true;
	if (!strcmp(vm->vnet_peer, vm->name))
		return config_fail(p, "vnet", "names the VM itself (a link joins two VMs)");
	if (vm->incoming)
		return config_fail(p, "vnet",
				   "an incoming VM cannot have a link (migration refuses VMs "
				   "that do)");
	if (!mac) {
		if (len != -FDT_ERR_NOTFOUND)
			return config_prop_missing(p, "vnet-mac", false, len);
		/* Locally administered, unicast (IEEE 802: bits 1 and 0 of the first byte). */
		const u8 def[CONFIG_VNET_MAC_LEN] = { 0x02, 0x66, 0x72, 0, 0, (u8)(index + 1) };

		memcpy(vm->vnet_mac, def, sizeof(def));
		return 0;
	}
	if (len != (int)CONFIG_VNET_MAC_LEN)
		return config_fail(p, "vnet-mac",
				   "%d bytes, expected 6 (written [02 00 00 00 00 01])", len);
	if (mac[0] & 1)
		return config_fail(p, "vnet-mac",
				   "%02x:%02x:%02x:%02x:%02x:%02x is a multicast address", mac[0],
				   mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return config_fail(p, "vnet-mac", "all zero: not an address");
	memcpy(vm->vnet_mac, mac, CONFIG_VNET_MAC_LEN);
	return 0;
}

/* Once every VM is known: each link's peer exists, names this VM back, and has another MAC. */
int config_check_vnet_links(struct config_parser *p)
{
	struct ferry_config *cfg = p->out;

	for (u32 i = 0; i < cfg->nvms; i++) {
		struct vm_config *vm = &cfg->vm[i];
		const struct vm_config *peer;
		u32 j;

		if (!vm->has_vnet)
			continue;
		snprintf(p->who, sizeof(p->who), "vm '%s'", vm->name);
		for (j = 0; j < cfg->nvms && strcmp(cfg->vm[j].name, vm->vnet_peer); j++)
			;
		if (j == cfg->nvms)
			return config_fail(p, "vnet", "no VM named '%s'", vm->vnet_peer);
		peer = &cfg->vm[j];
		if (!peer->has_vnet || strcmp(peer->vnet_peer, vm->name))
			return config_fail(p, "vnet",
					   "vm '%s' does not name '%s' back (both ends of a link "
					   "declare it)",
					   peer->name, vm->name);
		if (!memcmp(peer->vnet_mac, vm->vnet_mac, CONFIG_VNET_MAC_LEN))
			return config_fail(p, "vnet-mac", "the same as vm '%s''s", peer->name);
		vm->vnet_peer_index = j;
	}
	p->who[0] = 0;
	return 0;
}
