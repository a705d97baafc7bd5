"""The C allocator keeps freed tensor memory on the CPU: a process that set it reuses its pages instead of faulting
on fresh ones every pass (counted in real processes, before and after).

glibc's defaults adapt to what a process freed before, so how often they fault depends on its history (a test
process faulted 0 times a window, a benchmark 2,600). Both processes here start from the same fixed setting that
gives every freed block back (``GLIBC_TUNABLES``: everything over 128 KiB mapped fresh), which the sampler's setting
must override."""

import json
import os
import subprocess
import sys

import pytest
import torch

from studio.engine.layers import Conv1D

WINDOWS = """
import json, resource, sys, torch
if sys.argv[1] == "keep":
    from studio.engine.allocator import keep_freed_memory
    assert keep_freed_memory()
from studio.engine import sampling
from studio.engine.modelset import ModelSet
from studio.engine.speed import synthetic_conditioning
torch.set_num_threads(1)
prior = ModelSet.named("demo").prior(0)  # the bundled bottom upsampler
def window(n):  # as the sampler starts a window: its conditioning, then the cache primed with 256 known tokens
    cond = synthetic_conditioning(prior, n, torch.device("cpu"))
    ctx = torch.randint(0, prior.cfg.bins, (n, 256), generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        sampling.window_decoder(prior, cond, torch.float32).prime(ctx)
for n in (1, 1, 3, 3):
    window(n)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(4):
    window(3)
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 4))
"""


GIVE_BACK = "glibc.malloc.mmap_threshold=131072"  # every block over 128 KiB mapped fresh, unmapped when freed


def _faults(mode: str) -> float:
    """Minor page faults per window of three candidates, in a new process."""
    env = dict(os.environ, GLIBC_TUNABLES=GIVE_BACK)
    out = subprocess.run([sys.executable, "-c", WINDOWS, mode], capture_output=True, text=True, timeout=300,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the setting is glibc's (Linux)")
def test_freed_memory_is_reused_once_kept():
    default, kept = _faults("default"), _faults("keep")
    assert default > 2000  # every window faults its temporaries in afresh (13,000 here)
    assert kept * 20 < default  # the same pages, reused (0-150 here, the rest of the process's growth)


def test_a_projection_computes_only_the_outputs_asked_for():
    torch.manual_seed(0)
    layer = Conv1D(64, 96)
    torch.nn.init.normal_(layer.b, std=0.1)
    x = torch.randn(2, 5, 64)
    with torch.no_grad():
        whole, part = layer(x), layer(x, first_out=32)
        assert part.shape == (2, 5, 64)
        torch.testing.assert_close(part, whole[..., 32:], rtol=1e-6, atol=1e-6)
        layer.quantize(torch.bfloat16)
        whole, part = layer(x.bfloat16()), layer(x.bfloat16(), first_out=32)
    assert torch.equal(part, whole[..., 32:])
