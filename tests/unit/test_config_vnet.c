/* SPDX-License-Identifier: Apache-2.0 */
/* The config parser on virtual network links (hyp/config/vnet_links.c): each end's `vnet` and
 * `vnet-mac`, and the two ends matched up, every rule with its error line checked exactly. Configs
 * are compiled with dtc at test time, as the build does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_fixture.h"

/* ---- vnet links ---- */

static void test_vnet(void **state)
{
	const struct ferry_config *c;
	struct config_limits four = qemu_limits;

	(void)state;
	four.ncpus = 4;
	/* Both ends name each other; the MAC defaults to 02:66:72:00:00:<VMID>. */
	c = expect_ok_lim(
		CONFIG(vm_node("alpha", OV("vnet = \"beta\";")),
		       vm_node_cpu("beta", 2,
				   OV("vnet = \"alpha\";", "vnet-mac = [02 00 00 00 00 07];")),
		       vm_node_cpu("gamma", 3, NONE)),
		&four);
	assert_true(c->vm[0].has_vnet && c->vm[1].has_vnet && !c->vm[2].has_vnet);
	assert_int_equal(c->vm[0].vnet_peer_index, 1);
	assert_int_equal(c->vm[1].vnet_peer_index, 0);
	assert_memory_equal(c->vm[0].vnet_mac, ((u8[]){ 0x02, 0x66, 0x72, 0, 0, 1 }), 6);
	assert_memory_equal(c->vm[1].vnet_mac, ((u8[]){ 0x02, 0, 0, 0, 0, 7 }), 6);
	expect_error(CONFIG(vm_node("alpha", OV("vnet = \"beta\";")), vm_node_cpu("beta", 2, NONE)),
		     "config: vm 'alpha': property 'vnet': vm 'beta' does not name 'alpha' back "
		     "(both ends of a link declare it)");
	expect_error_lim(
		CONFIG(vm_node("alpha", OV("vnet = \"beta\";")),
		       vm_node_cpu("beta", 2, OV("vnet = \"gamma\";")),
		       vm_node_cpu("gamma", 3, OV("vnet = \"beta\";"))),
		&four,
		"config: vm 'alpha': property 'vnet': vm 'beta' does not name 'alpha' back "
		"(both ends of a link declare it)");
	expect_error(CONFIG(vm_node("alpha", OV("vnet = \"beta\";"))),
		     "config: vm 'alpha': property 'vnet': no VM named 'beta'");
	ALPHA_ERR("config: vm 'alpha': property 'vnet': names the VM itself (a link joins two VMs)",
		  "vnet = \"alpha\";");
	ALPHA_ERR("config: vm 'alpha': property 'vnet': one link per VM (names one peer VM)",
		  "vnet = \"beta\", \"gamma\";");
	ALPHA_ERR("config: vm 'alpha': property 'vnet-mac': given without 'vnet'",
		  "vnet-mac = [02 00 00 00 00 01];");
	ALPHA_ERR("config: vm 'alpha': property 'vnet-mac': 5 bytes, expected 6 (written [02 00 00 "
		  "00 00 01])",
		  "vnet = \"beta\";", "vnet-mac = [02 00 00 00 01];");
	ALPHA_ERR("config: vm 'alpha': property 'vnet-mac': 01:00:5e:00:00:01 is a multicast "
		  "address",
		  "vnet = \"beta\";", "vnet-mac = [01 00 5e 00 00 01];");
	ALPHA_ERR("config: vm 'alpha': property 'vnet-mac': all zero: not an address",
		  "vnet = \"beta\";", "vnet-mac = [00 00 00 00 00 00];");
	ALPHA_ERR("config: vm 'alpha': property 'vnet': an incoming VM cannot have a link "
		  "(migration refuses VMs that do)",
		  "vnet = \"beta\";", "incoming;");
	expect_error(
		CONFIG(vm_node("alpha", OV("vnet = \"beta\";", "vnet-mac = [02 00 00 00 00 "
							       "05];")),
		       vm_node_cpu("beta", 2,
				   OV("vnet = \"alpha\";", "vnet-mac = [02 00 00 00 00 05];"))),
		"config: vm 'alpha': property 'vnet-mac': the same as vm 'beta''s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vnet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
