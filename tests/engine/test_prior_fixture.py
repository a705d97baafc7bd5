import json

import numpy as np
import pytest
import torch

from studio.engine import load_checkpoint

PRIORS = ["upsampler_level_0", "upsampler_level_1", "prior_5b", "prior_5b_lyrics", "prior_1b_lyrics"]


@pytest.fixture(scope="module", params=PRIORS)
def case(request):
    from tests.conftest import FIXTURES, IDS
    if not FIXTURES.is_dir():
        pytest.skip(f"reference fixtures not found at {FIXTURES}")
    prior = load_checkpoint(FIXTURES / request.param / "checkpoint.pth.tar")
    prior.attach_labels(ids_dir=IDS)
    fwd = dict(np.load(FIXTURES / request.param / "forward.npz"))
    manifest = json.loads((FIXTURES / "manifest.json").read_text())
    return request.param, prior, fwd, manifest


def _inputs(fwd):
    z = torch.from_numpy(fwd["z"])
    y = torch.from_numpy(fwd["y"])
    zc = torch.from_numpy(fwd["z_cond"]) if "z_cond" in fwd else None
    return z, zc, y


def close(a, b):
    np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)


def test_conditioning_matches(case):
    name, prior, fwd, _ = case
    z, zc, y = _inputs(fwd)
    with torch.no_grad():
        x_cond, y_cond, enc_kv = prior.conditioning(y, zc, z.shape[0], "cpu")
    p = prior.cfg.prefix_len
    close(x_cond[:, p:].numpy(), fwd["x_cond"])
    if p:
        assert torch.count_nonzero(x_cond[:, :p]) == 0  # no timing over the lyric prefix
    close(y_cond.numpy(), fwd["y_cond"])
    if "encoder_kv" in fwd:
        close(enc_kv.numpy(), fwd["encoder_kv"])


def test_logits_and_losses_match(case):
    name, prior, fwd, _ = case
    z, zc, y = _inputs(fwd)
    with torch.no_grad():
        preds = prior.logits(z, zc, y).numpy()
        out = prior.losses(z, zc, y)
    assert preds.shape == fwd["preds"].shape
    close(preds, fwd["preds"])
    for key in ("loss", "gen_loss", "prime_loss"):
        assert out[key].item() == pytest.approx(float(fwd[key]), rel=1e-5, abs=1e-6), key


def test_alignment_attention_matches(case):
    name, prior, fwd, _ = case
    if "attn_alignment_layer" not in fwd:
        pytest.skip(f"{name} has no lyric alignment layer")
    z, zc, y = _inputs(fwd)
    with torch.no_grad():
        attn = prior.alignment_attention(z, zc, y).numpy()
    close(attn, fwd["attn_alignment_layer"])
    if name == "prior_5b_lyrics":  # encoder-decoder attention: every music query spreads over the lyrics
        np.testing.assert_allclose(attn.sum(-1), 1.0, atol=1e-5)


def test_make_y_matches_reference_labels(case):
    name, prior, fwd, manifest = case
    for i, meta in enumerate(manifest["metas"]):
        y = prior.make_y(meta["artist"], meta["genre"], meta["lyrics"], meta["total_length"], meta["offset"])
        np.testing.assert_array_equal(y, fwd["y"][i])
        if prior.cfg.has_lyrics:
            np.testing.assert_array_equal(prior.lyric_tokens(torch.from_numpy(y)[None])[0].numpy(),
                                          fwd["prime_tokens"][i])


def test_fp16_params_where_official(case):
    name, prior, _, _ = case
    w = prior.prior.transformer.layers[0].attn.c_attn.w
    assert w.dtype == (torch.float16 if name in ("prior_5b", "prior_5b_lyrics") else torch.float32)
    tied = prior.prior.x_out.weight is prior.prior.x_emb.weight
    assert tied == (name not in ("prior_5b", "prior_5b_lyrics"))


def test_labeller_is_found_on_first_use_or_names_the_fix(fixtures_dir, monkeypatch):
    from studio.engine import LabelTablesNotFound
    from tests.conftest import IDS

    monkeypatch.delenv("JUKEBOX_IDS_DIR", raising=False)
    prior = load_checkpoint(fixtures_dir / "prior_5b_lyrics" / "checkpoint.pth.tar")
    assert not prior.labels_attached
    with pytest.raises(LabelTablesNotFound, match=r"\(v2_artist_ids\.txt, v2_genre_ids\.txt\).*JUKEBOX_IDS_DIR"):
        prior.labeller
    monkeypatch.setenv("JUKEBOX_IDS_DIR", str(IDS))
    assert prior.labeller.artists["alan_jackson"] == prior.resolve_labels("Alan Jackson", "country").artist_id > 0
    assert prior.labels_attached
