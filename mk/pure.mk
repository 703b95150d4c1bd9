# SPDX-License-Identifier: Apache-2.0
# The pure folders: code with no system registers, no inline assembly and no global hardware state.
# Both the EL2 image and the host (unit tests, fuzzers, tools) compile every .c in them, except
# files named *_el2.c, which stay EL2-only. This is the one list; CONTRIBUTING.md names the same
# folders and tests/system/test_repository.py checks that it does.
PURE_DIRS := hyp/mm hyp/config hyp/lib hyp/migrate hyp/vdev hyp/vgic hyp/virtio
