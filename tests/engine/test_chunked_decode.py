"""Chunked decoding: equal to the one-pass decode, receptive field exact, working memory set by the budget."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
from torch import nn

from studio.engine import VQVAE, build, load_checkpoint
from studio.engine.chunked_decode import (LIVE_ACTIVATIONS, bytes_per_code, decode_in_chunks, decoder_geometry,
                                          plan_chunks)
from studio.engine.configs import tiny_config
from tests.conftest import REPO

STEP = 40  # codes kept per chunk in the tests' budgets


def random_vqvae(cfg) -> VQVAE:
    torch.manual_seed(0)
    vq = build(cfg).eval()
    for book in vq.bottleneck.level_blocks:
        book.k.normal_()  # a built codebook is all zeros: every code would decode alike
    return vq


@pytest.fixture(scope="module")
def tiny() -> VQVAE:
    return random_vqvae(tiny_config("vqvae"))


@pytest.fixture(scope="module")
def demo() -> VQVAE:
    """The bundled demo model's trained VQ-VAE (hops 16/64/256)."""
    return load_checkpoint(REPO / "models" / "demo" / "vqvae.safetensors")


def budget(vq: VQVAE, level: int, step: int = STEP) -> int:
    """The budget in bytes whose chunks keep ``step`` codes."""
    g = decoder_geometry(vq.cfg, level)
    return bytes_per_code(g, 4) * (step + g.left + g.right)


class DecoderCalls:
    """Records every input the level's decoder receives and the largest tensor any of its layers produces."""

    def __init__(self, vq: VQVAE, level: int):
        self.inputs: list[tuple[int, ...]] = []
        self.largest = 0
        decoder = vq.decoders[level]
        self.hooks = [decoder.register_forward_pre_hook(lambda m, args: self.inputs.append(tuple(args[0].shape)))]
        self.hooks += [m.register_forward_hook(self._output) for m in decoder.modules() if m is not decoder]

    def _output(self, module, args, output) -> None:
        self.largest = max(self.largest, output.numel())

    def __enter__(self) -> "DecoderCalls":
        return self

    def __exit__(self, *exc) -> None:
        for h in self.hooks:
            h.remove()


def random_codes(vq: VQVAE, n: int, length: int, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, vq.cfg.l_bins, (n, length), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("level", [0, 1, 2])
@pytest.mark.parametrize("length, chunks", [(STEP - 13, 1), (STEP, 1), (4 * STEP - 9, 4)],
                         ids=["shorter-than-a-chunk", "one-chunk", "ragged-many-chunks"])
def test_equals_one_pass_decode(tiny, level, length, chunks):
    codes = random_codes(tiny, 3, length)
    with DecoderCalls(tiny, level) as calls:
        got = decode_in_chunks(tiny, codes, level, budget(tiny, level))
    assert len(calls.inputs) == 3 * chunks  # one candidate at a time
    want = tiny.decode([codes], start_level=level).numpy()
    assert got.dtype == np.float32 and got.shape == (3, length * tiny.hop_lengths[level])
    assert np.abs(got - want).max() <= 1e-5
    assert np.abs(want).max() > 1e-2  # the audio is not silence, so equality means something


@pytest.mark.parametrize("level", [0, 1, 2])
def test_trained_model_with_default_budget(demo, level):
    plan = plan_chunks(demo.cfg, level)
    codes = random_codes(demo, 2, 2 * plan.step + 5).numpy()  # three chunks; numpy codes as the cascade holds them
    got = decode_in_chunks(demo, codes, level)
    want = demo.decode([torch.from_numpy(codes)], start_level=level).numpy()
    assert np.abs(got - want).max() <= 1e-5
    assert np.abs(want).max() > 1e-2


def affected_samples(vq: VQVAE, level: int) -> tuple[int, int, int, int]:
    """Change one code in the middle of a song: the first and last samples that change, and the computed bounds."""
    g = decoder_geometry(vq.cfg, level)
    length = 2 * (g.left + g.right) + 10
    codes = random_codes(vq, 1, length)
    changed = codes.clone()
    j = length // 2
    changed[0, j] = (changed[0, j] + 1) % vq.cfg.l_bins
    before = vq.decode([codes], start_level=level).numpy()[0]
    after = vq.decode([changed], start_level=level).numpy()[0]
    moved = np.flatnonzero(before != after)
    return moved[0], moved[-1], (j - g.right) * g.hop, (j + g.left + 1) * g.hop - 1


@pytest.mark.parametrize("level", [0, 1, 2])
def test_one_code_reaches_only_within_the_receptive_field(demo, level):
    first, last, lo, hi = affected_samples(demo, level)
    assert lo <= first and last <= hi
    assert last - first + 1 >= 0.75 * (hi - lo + 1)  # not overly conservative (ReLUs silence some outer taps)


@pytest.mark.parametrize("level", [0, 1, 2])
def test_receptive_field_is_exact_for_the_linear_decoder(level):
    """Without its ReLUs nothing silences the outermost taps: the change reaches into the first and last code."""
    vq = random_vqvae(tiny_config("vqvae"))
    for module in list(vq.decoders[level].modules()):
        for name, child in module.named_children():
            if isinstance(child, nn.ReLU):
                setattr(module, name, nn.Identity())
    first, last, lo, hi = affected_samples(vq, level)
    hop = vq.hop_lengths[level]
    assert lo <= first < lo + hop and hi - hop < last <= hi


def test_working_memory_is_set_by_the_budget_not_the_length(tiny):
    level, max_bytes = 0, budget(tiny, 0)
    plan = plan_chunks(tiny.cfg, level, max_bytes)
    assert plan.step == STEP and plan.chunk_codes * bytes_per_code(plan.geometry, 4) <= max_bytes
    largest = []
    for length in (6 * STEP, 20 * STEP + 3):  # the first holds one full chunk, the second many
        with DecoderCalls(tiny, level) as calls:
            decode_in_chunks(tiny, random_codes(tiny, 3, length), level, max_bytes)
        assert max(calls.inputs) == (1, tiny.cfg.emb_width, plan.chunk_codes)  # one candidate, one chunk at a time
        largest.append(calls.largest)
    assert largest[0] == largest[1] == plan.geometry.widest * plan.chunk_codes
    assert LIVE_ACTIVATIONS * largest[0] * 4 <= max_bytes


def test_writes_into_a_given_array(tiny):
    codes = random_codes(tiny, 2, 3 * STEP)
    out = np.full((2, 3 * STEP * 8), np.nan, np.float32)
    assert decode_in_chunks(tiny, codes, 0, budget(tiny, 0), out=out) is out
    assert np.abs(out - tiny.decode([codes], start_level=0).numpy()).max() <= 1e-5
    with pytest.raises(ValueError, match=r"float32 of shape \(2, 960\)"):
        decode_in_chunks(tiny, codes, 0, out=np.zeros((2, 959), np.float32))


def test_budget_too_small_for_the_context_is_refused(tiny):
    g = decoder_geometry(tiny.cfg, 0)
    need = bytes_per_code(g, 4) * (g.left + g.right + 1)
    assert plan_chunks(tiny.cfg, 0, need).step == 1
    with pytest.raises(ValueError, match=f"needs at least {need} bytes"):
        plan_chunks(tiny.cfg, 0, need - 1)


@pytest.mark.parametrize("level", [0, 2])
def test_chunks_decoded_side_by_side_give_the_same_audio(demo, level):
    """On several cores chunks decode at once, each on its own thread: the audio is the one-at-a-time audio, bit for
    bit, and the process's thread setting is back as it was."""
    plan = plan_chunks(demo.cfg, level)
    codes = random_codes(demo, 3, 3 * plan.step + 7).numpy()  # 12 chunks
    threads = torch.get_num_threads()
    alone = decode_in_chunks(demo, codes, level, cores=1)
    threads_seen = set()
    hook = demo.decoders[level].register_forward_pre_hook(lambda m, a: threads_seen.add(threading.get_ident()))
    try:
        side_by_side = decode_in_chunks(demo, codes, level, cores=3)
    finally:
        hook.remove()
    assert np.array_equal(alone, side_by_side) and np.abs(alone).max() > 1e-2
    assert len(threads_seen) == 3 and torch.get_num_threads() == threads


def test_chunks_side_by_side_share_the_budget(tiny):
    """A given budget holds every chunk in flight; by default as many decode at once as fit in PARALLEL_BYTES, and
    the official level-0 decoder (a ~670 MiB chunk) decodes one chunk at a time on every core."""
    from studio.engine.chunked_decode import PARALLEL_BYTES, _plan_for
    from studio.engine.configs import OFFICIAL_VQVAE

    max_bytes = 4 * budget(tiny, 0)
    plan, workers = _plan_for(tiny.cfg, 0, max_bytes, 4, cores=4)
    assert workers == 4 and workers * plan.chunk_codes * bytes_per_code(plan.geometry, 4) <= max_bytes
    plan, workers = _plan_for(tiny.cfg, 0, budget(tiny, 0, step=1), 4, cores=4)  # room for one chunk only
    assert workers == 1 and plan.step == 1
    plan, workers = _plan_for(OFFICIAL_VQVAE, 0, None, 4, cores=16)
    assert workers == 1 and plan.chunk_codes * bytes_per_code(plan.geometry, 4) > PARALLEL_BYTES / 2
    plan, workers = _plan_for(OFFICIAL_VQVAE, 1, None, 4, cores=16)
    assert workers == 16 and workers * plan.chunk_codes * bytes_per_code(plan.geometry, 4) <= PARALLEL_BYTES


def test_an_error_in_one_chunk_stops_the_others_and_is_raised(demo):
    """Out of memory (or any error) in one chunk decoding beside others: the error reaches the caller, as it is, and
    the process's thread setting is restored."""
    plan = plan_chunks(demo.cfg, 2)
    codes = random_codes(demo, 3, 6 * plan.step).numpy()  # 18 chunks
    threads, calls = torch.get_num_threads(), []

    def fail_on_the_third(module, args):
        calls.append(1)
        if len(calls) == 3:
            raise MemoryError("out of memory in a chunk")

    hook = demo.decoders[2].register_forward_pre_hook(fail_on_the_third)
    try:
        with pytest.raises(MemoryError, match="out of memory in a chunk"):
            decode_in_chunks(demo, codes, 2, cores=2)
    finally:
        hook.remove()
    assert len(calls) >= 3 and torch.get_num_threads() == threads
