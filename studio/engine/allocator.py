"""The C allocator's settings for sampling on the CPU: freed tensor memory stays with the process.

PyTorch allocates CPU tensors with the C library's ``malloc`` and keeps no cache of its own. With glibc's defaults,
blocks of a few hundred KiB and more go back to the operating system when freed (unmapped, or trimmed off the top
of the heap), so the next pass touches fresh pages and pays a page fault for every 4 KiB of them. A demo
upsampler primed for three candidates faulted about 2,600 times a window (10 MiB of new pages), a fifth of its
time on a virtual machine. Keeping blocks under 32 MiB in the heap, and freed memory up to 256 MiB with the process,
makes every window after the first reuse the same pages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters (malloc.h)
MMAP_THRESHOLD = 32 << 20  # why: blocks smaller than this come from the heap and are reused
TRIM_THRESHOLD = 256 << 20  # why: free memory kept at the heap's top before it goes back to the system

_done = False


def keep_freed_memory() -> bool:
    """Apply the settings once per process (glibc only; elsewhere nothing changes). True when applied."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and other C libraries have no mallopt
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _done
