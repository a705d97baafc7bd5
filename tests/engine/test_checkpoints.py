import pytest
import torch

from studio.engine import CheckpointError, build, load_checkpoint, save_model
from studio.engine.checkpoints import save_model_files
from studio.engine.configs import PriorConfig, VQVAEConfig, config_to_dict

# malicious pickles, zip integrity and safetensors checksums: tests/reliability/test_checkpoints.py


def test_truncated_checkpoint_names_file(fixtures_dir, tmp_path):
    src = fixtures_dir / "prior_5b" / "checkpoint.pth.tar"
    cut = tmp_path / "prior_level_2.pth.tar"
    cut.write_bytes(src.read_bytes()[: src.stat().st_size // 2])
    with pytest.raises(CheckpointError, match="truncated or damaged") as err:
        load_checkpoint(cut)
    assert str(cut) in str(err.value)


def test_missing_file_message(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "nope.pth.tar")


def test_wrong_shape_names_key_and_shapes(tmp_path):
    cfg = PriorConfig(level=2, n_ctx=16, width=8, depth=3, heads=1, blocks=4, bins=32, labels=False,
                      merged_decoder=False)
    state = build(cfg).state_dict()
    state["prior.pos_emb.pos_emb"] = torch.zeros(15, 8)
    stem = tmp_path / "tiny"
    save_model_files(stem, "prior", config_to_dict(cfg), state)
    with pytest.raises(CheckpointError, match=r"prior\.pos_emb\.pos_emb has shape \(15, 8\).*\(16, 8\)"):
        load_checkpoint(stem.with_suffix(".safetensors"))


def test_wrong_model_kind_lists_missing_keys(fixtures_dir, tmp_path):
    # a prior's weights relabelled as another prior's: key names do not fit
    import json
    d = tmp_path / "m"
    vq = load_checkpoint(fixtures_dir / "vqvae" / "checkpoint.pth.tar")
    save_model(vq, d / "vq")
    meta = json.loads((d / "vq.json").read_text())
    meta["kind"] = "prior"
    meta["config"] = {"level": 2, "n_ctx": 16, "width": 8, "depth": 3, "heads": 1, "blocks": 4, "bins": 32}
    (d / "vq.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="missing .*unexpected"):
        load_checkpoint(d / "vq.safetensors")


def test_module_prefix_and_numpy_hps_are_read(fixtures_dir):
    prior = load_checkpoint(fixtures_dir / "upsampler_level_1" / "checkpoint.pth.tar")
    assert prior.cfg.level == 1 and prior.cfg.cond_res_scale is True
    assert isinstance(prior.cfg.init_scale, float)


@pytest.mark.parametrize("name", ["vqvae", "upsampler_level_0", "prior_5b_lyrics", "prior_1b_lyrics"])
def test_own_format_round_trip(fixtures_dir, tmp_path, name):
    model = load_checkpoint(fixtures_dir / name / "checkpoint.pth.tar")
    path = save_model(model, tmp_path / name)
    back = load_checkpoint(path)
    assert type(back) is type(model) and back.cfg == model.cfg
    a, b = model.state_dict(), back.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert a[k].dtype == b[k].dtype
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    if hasattr(back, "prior") and not back.cfg.merged_decoder:
        assert back.prior.x_out.weight is back.prior.x_emb.weight


def test_safetensors_truncated(tmp_path):
    vq = build(VQVAEConfig(width=4, depth=1, emb_width=4, l_bins=8))
    p = save_model(vq, tmp_path / "vq")
    p.write_bytes(p.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="truncated or damaged"):
        load_checkpoint(p)
