"""Parameter, KV-cache and activation estimates against the reference's counts and published figures."""

from __future__ import annotations

import json

import pytest

from studio.engine.configs import PriorConfig, official_config
from studio.modelstore import hardware as hw
from studio.modelstore.errors import InsufficientMemoryError
from tests.modelstore.conftest import SHARED

GB = 10**9
# REFERENCE.md section 0 / SOURCE.md: unique parameter counts of the reference build
N_PARAMS = {("5b", "vqvae"): 1_485_763, ("5b", 0): 981_298_176, ("5b", 1): 981_298_176, ("5b", 2): 5_060_452_800,
            ("5b_lyrics", 2): 5_640_506_800, ("1b_lyrics", 2): 942_643_200}
SUMMARY_KEYS = {("5b", "vqvae"): "vqvae", ("5b", 0): "5b.prior_level_0", ("5b", 1): "5b.prior_level_1",
                ("5b", 2): "5b.prior_level_2", ("5b_lyrics", 2): "5b_lyrics.prior_level_2",
                ("1b_lyrics", 2): "1b_lyrics.prior_level_2"}


@pytest.mark.parametrize("name,level", list(N_PARAMS))
def test_parameter_count_is_exact(name, level):
    assert hw.n_params(official_config(name, level)) == N_PARAMS[(name, level)]


@pytest.mark.skipif(not (SHARED / "models.summary.json").is_file(), reason="shared/jukebox-reference not present")
@pytest.mark.parametrize("name,level", list(N_PARAMS))
def test_numel_by_dtype_matches_models_summary(name, level):
    ref = json.loads((SHARED / "models.summary.json").read_text())[SUMMARY_KEYS[(name, level)]]
    cfg = official_config(name, level)
    assert hw.n_params(cfg) == ref["n_params"]
    ours = hw.state_numel_by_dtype(cfg)
    assert sum(ours.values()) == ref["n_state_numel"]
    if "numel_by_dtype" in ref:
        assert ours == ref["numel_by_dtype"]
    if "attn_funcs" in ref:
        assert hw.attention_pattern(cfg.attn_order, cfg.depth) == ref["attn_funcs"]


def test_attention_patterns_place_the_special_layers():
    p = hw.attention_pattern(10, 79)
    assert [d for d, k in enumerate(p) if k == 6] == [18, 28, 38, 48, 58, 68, 78]
    p = hw.attention_pattern(12, 72)
    assert [d for d, k in enumerate(p) if k == 7] == [15, 31, 63] and [d for d, k in enumerate(p) if k == 0] == [47]
    assert hw.attention_pattern(2, 6) == [1, 2, 3, 1, 2, 3]


def test_released_parameter_memory_matches_the_readme():
    # README: top-level priors take 3.8 GB (1b_lyrics), 10.3 GB (5b), 11.5 GB (5b_lyrics)
    got = {n: hw.released_param_bytes(official_config(n, 2)) / GB for n in ("1b_lyrics", "5b", "5b_lyrics")}
    assert got == pytest.approx({"1b_lyrics": 3.77, "5b": 10.29, "5b_lyrics": 11.45}, abs=0.01)
    assert hw.param_bytes(official_config("5b", 0), "bf16") == 2 * 981_298_176


def test_kv_cache_per_sample_matches_the_layout_and_the_readme():
    c = official_config("5b_lyrics", 2)
    # 24 row layers x 64 + 24 previous-block x 128 + 24 column x 8192 + 7 encoder-decoder x 512 lyric tokens
    assert hw.kv_cache_tokens(c) == 24 * 64 + 24 * 128 + 24 * 8192 + 7 * 512 == 204_800
    assert hw.kv_cache_bytes(c, "fp16") == 204_800 * 2 * 1200 * 2 == 983_040_000  # README: about 1 GB
    one_b = official_config("1b_lyrics", 2)
    # 22 row x 102 + 23 previous-block x 204 + (23 column + 3 prime + 1 dense) x 6528
    assert hw.kv_cache_tokens(one_b) == 22 * 102 + 23 * 204 + 27 * 6528
    assert hw.kv_cache_bytes(one_b, "fp16") / 1e6 == pytest.approx(375.2, abs=0.1)  # README: about 400 MB
    assert hw.kv_cache_bytes(one_b, "fp32", batch=3) == 6 * hw.kv_cache_bytes(one_b, "fp16")


def test_activation_estimate_grows_with_width_and_chunk():
    up = official_config("5b", 0)
    # conditioner transient (3 x 1024 + 2 x 1920 channels x 8192 fp32) + x_cond (8192 x 1920 fp32)
    assert hw.activation_bytes(up, "fp16") == (3 * 1024 + 2 * 1920) * 8192 * 4 + 8192 * 1920 * 4
    top = official_config("5b", 2)
    assert hw.activation_bytes(top, "fp16", chunk_size=64) > hw.activation_bytes(top, "fp16", chunk_size=16)


V100 = hw.DeviceMemory("cuda:0", "Tesla V100 16GB", 16_900_000_000, 16_900_000_000)


def test_plan_on_a_16gb_gpu_follows_the_reference_batches():
    report = hw.plan_model("1b_lyrics", V100)
    assert [(p.level, p.dtype, p.max_batch) for p in report.levels] == [(2, "fp16", 16), (1, "fp16", 16),
                                                                         (0, "fp16", 16)]
    five = hw.plan_model("5b_lyrics", V100).levels[0]
    assert five.dtype == "fp16" and 2 <= five.max_batch <= 3  # README: "5B fits up to 3" on a V100
    assert "up to" in "\n".join(report.summary_lines())


def test_check_fits_refuses_with_need_available_and_fix():
    small = hw.DeviceMemory("cuda:0", "Laptop GPU", 8 * GB, 8 * GB)
    with pytest.raises(InsufficientMemoryError) as err:
        hw.check_fits(official_config("5b_lyrics", 2), 1, "fp16", small, model="5b_lyrics")
    msg = str(err.value)
    assert "5b_lyrics level 2" in msg and "7.2 GB" in msg and "needs about 12.5 GB" in msg
    assert "1b_lyrics" in msg and err.value.need > err.value.available
    assert hw.max_batch(official_config("1b_lyrics", 2), "fp16", small) == 12  # 2.3 GB + 0.43 GB per sample
    with pytest.raises(InsufficientMemoryError, match="use a batch of 12 or fewer"):
        hw.check_fits(official_config("1b_lyrics", 2), 16, "fp16", small)
    est = hw.check_fits(official_config("1b_lyrics", 2), 4, "fp16", small)
    assert est.total == est.params + est.kv_cache + est.activations < 0.9 * 8 * GB


def test_cpu_memory_comes_from_meminfo():
    mem = hw.available_memory("cpu")
    assert mem.device == "cpu" and 0 < mem.available <= mem.total
    with open("/proc/meminfo") as f:
        total_kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
    assert mem.total == total_kb * 1024


def test_tiny_config_estimates_stay_consistent():
    tiny = PriorConfig(level=2, n_ctx=64, width=32, depth=3, heads=2, blocks=8, y_bins=(10, 20), t_bins=8,
                       merged_decoder=False, min_duration=1.0, max_duration=10.0)
    per_layer = 32 * 24 + 8 * 32 + 2 * 32 * 32 + (24 + 32 + 32 + 32 + 4 * 32)
    emb = 2048 * 32 + 64 * 32 + (10 + 20) * 32 + 3 * 8 * 32
    assert hw.n_params(tiny) == 3 * per_layer + emb


@pytest.mark.parametrize("name,level", [("1b_lyrics", 2), ("5b_lyrics", 2), ("5b", 0)])
def test_estimate_equals_the_engine_meta_build(name, level):
    exact = hw.exact_param_count(name, level)
    if exact is None:
        pytest.skip("studio.engine.official_model has not landed yet")
    assert exact == hw.n_params(official_config(name, level)) == N_PARAMS[(name, level)]
