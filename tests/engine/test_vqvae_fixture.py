import numpy as np
import pytest
import torch

from studio.engine import VQVAE, load_checkpoint


@pytest.fixture(scope="module")
def vq_and_io():
    from tests.conftest import FIXTURES
    if not FIXTURES.is_dir():
        pytest.skip(f"reference fixtures not found at {FIXTURES}")
    vq = load_checkpoint(FIXTURES / "vqvae" / "checkpoint.pth.tar")
    return vq, np.load(FIXTURES / "vqvae" / "io.npz")


def test_loads_as_vqvae_with_file_hps(vq_and_io):
    vq, _ = vq_and_io
    assert isinstance(vq, VQVAE)
    assert vq.cfg.emb_width == 16 and vq.cfg.l_bins == 256 and vq.hop_lengths == [8, 32, 128]
    assert not vq.training


@pytest.mark.parametrize("level", [0, 1, 2])
def test_encoder_outputs_match_reference(vq_and_io, level):
    vq, io = vq_and_io
    x = torch.from_numpy(io["x_in"])[..., 0]
    with torch.no_grad():
        enc = vq.encode_latents(x, level).numpy()
    np.testing.assert_allclose(enc, io[f"enc_l{level}"], atol=1e-5, rtol=1e-5)


def test_codes_match_reference(vq_and_io):
    vq, io = vq_and_io
    zs = vq.encode(torch.from_numpy(io["x_in"])[..., 0])
    assert [z.dtype for z in zs] == [torch.int64] * 3
    for level, z in enumerate(zs):
        ref = io[f"zs_l{level}"]
        assert z.shape == ref.shape
        assert (z.numpy() != ref).mean() <= 1 / 64  # near-tie flips only


@pytest.mark.parametrize("level", [0, 1, 2])
def test_dequantise_and_decode_each_level(vq_and_io, level):
    vq, io = vq_and_io
    z = torch.from_numpy(io[f"zs_l{level}"])
    np.testing.assert_array_equal(vq.dequantise(z, level).numpy(), io[f"dequant_l{level}"])
    out = vq.decode([z], start_level=level).numpy()
    assert out.shape == (2, 8192)
    np.testing.assert_allclose(out, io[f"x_out_l{level}"][..., 0], atol=1e-5, rtol=1e-5)


def test_length_not_multiple_of_top_hop_is_refused(vq_and_io):
    vq, _ = vq_and_io
    with pytest.raises(ValueError, match="multiple of 128"):
        vq.encode(torch.zeros(1, 1000))
