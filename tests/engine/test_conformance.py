"""Full-size official networks built on the meta device have exactly the official key names, shapes and dtypes."""

import json

import pytest
import torch

from studio.engine import official_model

FILES = [
    ("5b", "vqvae", "vqvae"),
    ("5b", 0, "5b.prior_level_0"),
    ("5b", 1, "5b.prior_level_1"),
    ("5b", 2, "5b.prior_level_2"),
    ("5b_lyrics", 2, "5b_lyrics.prior_level_2"),
    ("1b_lyrics", 2, "1b_lyrics.prior_level_2"),
]


def _shape(t: torch.Tensor) -> str:
    return "(" + ", ".join(str(s) for s in t.shape) + ("," if t.dim() == 1 else "") + ")"


@pytest.mark.parametrize("name,level,stem", FILES)
def test_keys_shapes_dtypes_and_order(reference_dir, name, level, stem):
    rows = [line.rstrip("\n").split("\t") for line in (reference_dir / f"{stem}.keys.tsv").open()]
    model = official_model(name, level, device="meta")
    state = model.state_dict()
    mine = [(k, _shape(v), str(v.dtype).replace("torch.", "")) for k, v in state.items()]
    assert [r[0] for r in rows] == [m[0] for m in mine]
    assert [tuple(r) for r in rows] == mine
    assert all(v.device.type == "meta" for v in state.values())


@pytest.mark.parametrize("name,level,stem", FILES[1:])
def test_parameter_counts_match_summary(reference_dir, name, level, stem):
    summary = json.loads((reference_dir / "models.summary.json").read_text())[stem]
    model = official_model(name, level, device="meta")
    unique = sum(p.numel() for p in model.parameters())  # tied weights counted once
    assert unique == summary["n_params"]
    by_dtype: dict = {}
    for v in model.state_dict().values():
        by_dtype[str(v.dtype).replace("torch.", "")] = by_dtype.get(str(v.dtype).replace("torch.", ""), 0) + v.numel()
    assert by_dtype == summary["numel_by_dtype"]


@pytest.mark.parametrize("level", ["vqvae", 0, 1, 2])
def test_tiny_registry_config_matches_fixture_structure(fixtures_dir, level):
    """The registry's tiny networks have exactly the reference fixtures' key names and shapes."""
    import numpy as np

    from studio.engine import build
    from studio.engine.configs import named_config
    folder = {"vqvae": "vqvae", 0: "upsampler_level_0", 1: "upsampler_level_1", 2: "prior_5b_lyrics"}[level]
    ref = np.load(fixtures_dir / folder / "state_dict.npz")
    mine = build(named_config("tiny", level), "meta").state_dict()
    assert sorted(mine) == sorted(k[len("module."):] if k.startswith("module.") else k for k in ref.files)
    for k, v in mine.items():
        key = k if k in ref.files else "module." + k
        assert tuple(v.shape) == ref[key].shape, k
