"""Parameter, KV-cache and activation estimates (studio.engine.memory) against the reference's counts, the sampler's
own allocation and published figures; the hardware check's plans and refusals built on them."""

from __future__ import annotations

import json

import pytest

from studio.engine import memory as mem
from studio.engine.configs import PriorConfig, attention_pattern, official_config, tiny_config
from studio.engine.demo_config import demo_prior, tiny_prior
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
    assert mem.n_params(official_config(name, level)) == N_PARAMS[(name, level)]


@pytest.mark.skipif(not (SHARED / "models.summary.json").is_file(), reason="shared/jukebox-reference not present")
@pytest.mark.parametrize("name,level", list(N_PARAMS))
def test_numel_by_dtype_matches_models_summary(name, level):
    ref = json.loads((SHARED / "models.summary.json").read_text())[SUMMARY_KEYS[(name, level)]]
    cfg = official_config(name, level)
    assert mem.n_params(cfg) == ref["n_params"]
    ours = mem.state_numel_by_dtype(cfg)
    assert sum(ours.values()) == ref["n_state_numel"]
    if "numel_by_dtype" in ref:
        assert ours == ref["numel_by_dtype"]
    if "attn_funcs" in ref:
        assert attention_pattern(cfg.attn_order, cfg.depth) == ref["attn_funcs"]


def test_attention_patterns_place_the_special_layers():
    p = attention_pattern(10, 79)
    assert [d for d, k in enumerate(p) if k == 6] == [18, 28, 38, 48, 58, 68, 78]
    p = attention_pattern(12, 72)
    assert [d for d, k in enumerate(p) if k == 7] == [15, 31, 63] and [d for d, k in enumerate(p) if k == 0] == [47]
    assert attention_pattern(2, 6) == [1, 2, 3, 1, 2, 3]


def test_released_parameter_memory_matches_the_readme():
    # README: top-level priors take 3.8 GB (1b_lyrics), 10.3 GB (5b), 11.5 GB (5b_lyrics)
    got = {n: mem.released_param_bytes(official_config(n, 2)) / GB for n in ("1b_lyrics", "5b", "5b_lyrics")}
    assert got == pytest.approx({"1b_lyrics": 3.77, "5b": 10.29, "5b_lyrics": 11.45}, abs=0.01)
    assert mem.param_bytes(official_config("5b", 0), "bf16") == 2 * 981_298_176


def test_kv_cache_per_sample_matches_the_layout_and_the_readme():
    c = official_config("5b_lyrics", 2)
    # 24 row layers x 64 + 24 previous-block x 128 + 24 column x 8192 + 7 encoder-decoder x 512 lyric tokens
    assert mem.kv_cache_slots(c) == 24 * 64 + 24 * 128 + 24 * 8192 + 7 * 512 == 204_800
    assert mem.kv_cache_bytes(c, "fp16") == 204_800 * 2 * 1200 * 2 == 983_040_000  # README: about 1 GB
    one_b = official_config("1b_lyrics", 2)
    # 22 row x 102 + 23 previous-block x 204 + (23 column + 1 dense) x 6528 + 3 prime x (448 lyric keys + 1 spare)
    assert mem.kv_cache_slots(one_b) == 22 * 102 + 23 * 204 + 24 * 6528 + 3 * 449
    assert mem.kv_cache_bytes(one_b, "fp16") / 1e6 == pytest.approx(337.8, abs=0.1)  # README: about 400 MB
    assert mem.kv_cache_bytes(one_b, "fp32", batch=3) == 6 * mem.kv_cache_bytes(one_b, "fp16")


ALLOCATED = {"5b_lyrics top": official_config("5b_lyrics", 2), "1b_lyrics top": official_config("1b_lyrics", 2),
             "upsampler": official_config("5b", 0), "tiny top (encoder-decoder)": tiny_config(2),
             "demo top (prime)": demo_prior(2), "demo level 0": demo_prior(0), "tiny prime top": tiny_prior(2),
             # n_ctx_total 60 over 8 blocks: blocks of 7 positions, a column layer holds 9 whole blocks (63 slots)
             "uneven blocks": PriorConfig(level=2, n_ctx=60, width=32, depth=3, heads=2, blocks=8, y_bins=(10, 20),
                                          t_bins=8, min_duration=1.0, max_duration=10.0)}


@pytest.mark.parametrize("name", list(ALLOCATED))
def test_kv_cache_estimate_equals_the_sampler_allocation(name):
    torch = pytest.importorskip("torch")
    from studio.engine.loading import build

    cfg = ALLOCATED[name]
    prior = build(cfg, "meta")
    # as the sampler's WindowDecoder sizes them: encoder-decoder layers hold the lyric encoder's n_tokens states
    enc_len = cfg.n_tokens if hasattr(prior, "prime_prior") else 0
    caches = prior.prior.transformer.new_caches(3, torch.bfloat16, "meta", enc_len)
    allocated = sum(b.numel() * b.element_size() for b in caches.buffers())
    assert allocated == mem.kv_cache_bytes(cfg, "bf16", batch=3) == 3 * mem.kv_cache_bytes(cfg, "bf16")


def test_activation_estimate_grows_with_width_and_chunk():
    up = official_config("5b", 0)
    # conditioner transient (3 x 1024 + 2 x 1920 channels x 8192 fp32) + x_cond (8192 x 1920 fp32)
    assert mem.activation_bytes(up, "fp16") == (3 * 1024 + 2 * 1920) * 8192 * 4 + 8192 * 1920 * 4
    top = official_config("5b", 2)
    assert mem.activation_bytes(top, "fp16", chunk_size=64) > mem.activation_bytes(top, "fp16", chunk_size=16)


V100 = mem.DeviceMemory("cuda:0", "Tesla V100 16GB", 16_900_000_000, 16_900_000_000)


def test_plan_on_a_16gb_gpu_follows_the_reference_batches():
    report = hw.plan_model("1b_lyrics", V100)
    assert [(p.level, p.dtype, p.max_batch) for p in report.levels] == [(2, "fp16", 16), (1, "fp16", 16),
                                                                         (0, "fp16", 16)]
    five = hw.plan_model("5b_lyrics", V100).levels[0]
    assert five.dtype == "fp16" and 2 <= five.max_batch <= 3  # README: "5B fits up to 3" on a V100
    assert "up to" in "\n".join(report.summary_lines())


def test_check_fits_refuses_with_need_available_and_fix():
    small = mem.DeviceMemory("cuda:0", "Laptop GPU", 8 * GB, 8 * GB)
    with pytest.raises(InsufficientMemoryError) as err:
        hw.check_fits(official_config("5b_lyrics", 2), 1, "fp16", small, model="5b_lyrics")
    msg = str(err.value)
    assert "5b_lyrics level 2" in msg and "7.2 GB" in msg and "needs about 12.5 GB" in msg
    assert "1b_lyrics" in msg and err.value.need > err.value.available
    assert hw.max_batch(official_config("1b_lyrics", 2), "fp16", small) == 13  # 2.3 GB + 0.39 GB per sample
    with pytest.raises(InsufficientMemoryError, match="use a batch of 13 or fewer"):
        hw.check_fits(official_config("1b_lyrics", 2), 16, "fp16", small)
    est = hw.check_fits(official_config("1b_lyrics", 2), 4, "fp16", small)
    assert est.total == est.params + est.kv_cache + est.activations < 0.9 * 8 * GB


def test_cpu_memory_comes_from_meminfo():
    cpu = mem.available_memory("cpu")
    assert cpu.device == "cpu" and 0 < cpu.available <= cpu.total
    with open("/proc/meminfo") as f:
        total_kb = next(int(line.split()[1]) for line in f if line.startswith("MemTotal:"))
    assert cpu.total == total_kb * 1024


def test_no_visible_gpu_means_the_cpu_or_a_clear_refusal(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # as CUDA reads it: this process may use no GPU
    assert mem.available_memory().device == "cpu"
    with pytest.raises(ValueError, match="'cuda:1' was asked for but no NVIDIA GPU is usable here.*choose the CPU"):
        mem.available_memory("cuda:1")


@pytest.mark.gpu
def test_gpu_memory_read_without_torch_names_the_device_torch_sees():
    import torch

    free, total = torch.cuda.mem_get_info(0)  # first: the context it creates is then in NVML's figure too
    gpu = mem.available_memory()
    assert gpu.device == "cuda:0" and gpu.name == torch.cuda.get_device_name(0)
    assert gpu.total == pytest.approx(total, rel=0.02) and 0 < gpu.available <= gpu.total
    assert gpu.available == pytest.approx(free, rel=0.05)


def test_tiny_config_estimates_stay_consistent():
    tiny = PriorConfig(level=2, n_ctx=64, width=32, depth=3, heads=2, blocks=8, y_bins=(10, 20), t_bins=8,
                       merged_decoder=False, min_duration=1.0, max_duration=10.0)
    per_layer = 32 * 24 + 8 * 32 + 2 * 32 * 32 + (24 + 32 + 32 + 32 + 4 * 32)
    emb = 2048 * 32 + 64 * 32 + (10 + 20) * 32 + 3 * 8 * 32
    assert mem.n_params(tiny) == 3 * per_layer + emb


@pytest.mark.parametrize("name,level", [("1b_lyrics", 2), ("5b_lyrics", 2), ("5b", 0)])
def test_estimate_equals_the_engine_meta_build(name, level):
    pytest.importorskip("torch")
    from studio.engine.loading import official_model

    model = official_model(name, level, device="meta")
    exact = sum(p.numel() for p in model.parameters())  # parameters() yields a tied tensor once
    assert exact == mem.n_params(official_config(name, level)) == N_PARAMS[(name, level)]
