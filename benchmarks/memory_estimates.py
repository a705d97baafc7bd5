"""Memory estimates (studio.engine.memory) against the peak measured while sampling a window on CPU.

For each config: build random weights, then measure the process's peak resident memory (VmHWM, reset through
/proc/self/clear_refs) while a window is primed and 16 tokens are sampled, and compare it with the estimate of the
KV cache plus activations. Prints one JSON line per config. Linux only.

    python benchmarks/memory_estimates.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.engine.sampling import priming_chunk  # noqa: E402
from studio.engine.configs import PriorConfig  # noqa: E402
from studio.engine.sampling import iter_sample_window  # noqa: E402
from studio.engine.speed import random_prior, synthetic_conditioning  # noqa: E402
from studio.engine.memory import estimate  # noqa: E402


def rss_kib(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(field)


def reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


CONFIGS = {
    "upsampler-like w512 ctx2048": PriorConfig(level=0, n_ctx=2048, width=512, depth=6, heads=1, blocks=32,
                                               bins=1024, merged_decoder=False, cond_width=256, cond_depth=4),
    "top-5b-like w512 ctx2048": PriorConfig(level=2, n_ctx=2048, width=512, depth=6, heads=4, blocks=32,
                                            bins=1024, min_duration=10.0, max_duration=600.0),
    "top-1b-like w384 ctx1536+256": PriorConfig(level=2, n_ctx=1536, width=384, depth=16, heads=2, attn_order=12,
                                                blocks=32, bins=1024, merged_decoder=False, labels_v3=True,
                                                y_bins=(604, 7898), max_bow_genre_size=1, min_duration=10.0,
                                                max_duration=600.0, n_tokens=256, n_vocab=79,
                                                single_enc_dec=True),
}


def main() -> int:
    torch.set_num_threads(1)
    batch = 4
    for name, cfg in CONFIGS.items():
        prior = random_prior(cfg, torch.device("cpu"))
        with torch.no_grad():
            cond = synthetic_conditioning(prior, batch, torch.device("cpu"))
            chunk = priming_chunk(cfg)
            ctx = torch.randint(0, cfg.bins, (batch, cfg.n_ctx_total - 32))
            import gc
            gc.collect()
            base = rss_kib("VmRSS")
            reset_peak()
            for _ in iter_sample_window(prior, ctx, 16, cond, list(range(batch)), 1.0, chunk_size=chunk,
                                        compiled=False):
                pass
            peak = rss_kib("VmHWM")
        est = estimate(cfg, batch, "fp32", chunk, vqvae=None)
        measured = (peak - base) * 1024
        predicted = est.kv_cache + est.activations
        print(json.dumps({"config": name, "batch": batch, "priming_chunk": chunk,
                          "measured_peak_MiB": round(measured / 2**20, 1),
                          "estimated_MiB": round(predicted / 2**20, 1),
                          "estimated_kv_MiB": round(est.kv_cache / 2**20, 1),
                          "ratio_estimate_over_measured": round(predicted / max(measured, 1), 2)}), flush=True)
        del prior, cond
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
