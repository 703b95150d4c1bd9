/* SPDX-License-Identifier: Apache-2.0 */
/* Built-in guest images and the platform's default configuration (core/images.S), found by name
 * (core/main.c). */
#ifndef FERRY_CORE_IMAGES_H
#define FERRY_CORE_IMAGES_H

#include "types.h"

struct builtin_image {
	const char *name;
	const u8 *start;
	const u8 *end;
};
const struct builtin_image *builtin_image_find(const char *name);
extern const u8 builtin_config_start[], builtin_config_end[];

#endif
