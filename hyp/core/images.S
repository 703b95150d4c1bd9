/* SPDX-License-Identifier: Apache-2.0 */
/* The guest images ferry carries (config: image = "<name>") and the platform's default config. */
	.section .rodata.images, "a"
	.balign 4096
	.globl image_memstress_start, image_memstress_end
image_memstress_start:
	.incbin IMAGE_MEMSTRESS
image_memstress_end:

	.balign 4096
	.globl image_pingpong_start, image_pingpong_end
image_pingpong_start:
	.incbin IMAGE_PINGPONG
image_pingpong_end:
	.globl image_conformance_start, image_conformance_end
image_conformance_start:
	.incbin IMAGE_CONFORMANCE
image_conformance_end:
	.globl image_hostile_start, image_hostile_end
image_hostile_start:
	.incbin IMAGE_HOSTILE
image_hostile_end:
	.globl image_latency_start, image_latency_end
image_latency_start:
	.incbin IMAGE_LATENCY
image_latency_end:

	.balign 8
	.globl builtin_config_start, builtin_config_end
builtin_config_start:
	.incbin DEFAULT_CONFIG_DTB
builtin_config_end:
