/* SPDX-License-Identifier: Apache-2.0 */
#include "types.h"

const char *ferry_strerror(int err)
{
	switch (err) {
	case FERRY_OK:
		return "ok";
	case FERRY_EPERM:
		return "not permitted (no key, or authentication failed)";
	case FERRY_ENOENT:
		return "not found";
	case FERRY_EIO:
		return "I/O error";
	case FERRY_EAGAIN:
		return "not here yet (post-copy page still on its way)";
	case FERRY_ENOMEM:
		return "out of memory";
	case FERRY_EBUSY:
		return "busy";
	case FERRY_EEXIST:
		return "already exists";
	case FERRY_EINVAL:
		return "invalid argument";
	case FERRY_ERANGE:
		return "out of range";
	case FERRY_ENOTSUP:
		return "not supported";
	case FERRY_ETIMEDOUT:
		return "timed out";
	default:
		return "unknown error";
	}
}
