"""Measure, per level, how the VQ-VAE's decoder colours what it gives back, and write the model folder's
``render_eq.json``: the fixed correction every render of that level goes through (``studio/engine/render_eq.py``).

    python tools/fit_render_eq.py --data /work/data/demo8 [--models models/demo] [--every 8] [--max-boost 0]
                                  [--levels 0] [--write]

On training clips (every ``--every``-th item, the middle 4 s of each): the mean log power spectrum of the real audio
less that of its reconstruction through one level's codes, per frequency bin averaged over the clips, smoothed to
sixth-octave points from 60 Hz, its mean taken out, and kept as cuts only (``--max-boost`` 0 dB): what the decoder
gives too much of (the demo's: 6-9 dB below 250 Hz) is taken down, what it gives too little of is left, since
raising it raises the decoder's hiss with it (on the demo's held-out clips +12 dB at 4-8 kHz tripled the spectral
flatness, 0.006 -> 0.019, against the real audio's 0.003; cuts alone leave it at 0.006). Then checked on the
held-out clips, which the fit never saw: each reconstruction's distance to its real audio (``tools/evaluate_demo.py``'s
``profile_distance``: mean 40-band spectra, level-free) without and with the EQ, and the centroid and tonal share
of both against the real audio's. Deterministic: reruns give the same figures on the same machine.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from evaluate_demo import mean_stats, profile_distance, stats  # noqa: E402

from studio.engine.modelset import ModelSet  # noqa: E402
from studio.engine.render_eq import MAX_GAIN_DB, apply_filter, eq_file, eq_filter, write_render_eq  # noqa: E402
from studio.train.data import load_audio_set  # noqa: E402

N_FFT = 4096
SECONDS = 4.0


def middle_crops(clips, sr: int, multiple: int) -> list[np.ndarray]:
    n = int(SECONDS * sr) // multiple * multiple
    return [c.audio[len(c.audio) // 2 - n // 2:][:n] for c in clips if len(c.audio) >= n]


@torch.no_grad()
def reconstruct(models: ModelSet, x: np.ndarray, level: int) -> np.ndarray:
    vq = models.vqvae
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))[None]
    return vq.decode(vq.encode(t, level, level + 1), start_level=level)[0].numpy()


def log_power(x: np.ndarray) -> np.ndarray:
    """Mean power spectrum over Hann frames (Welch), in dB: (N_FFT // 2 + 1,)."""
    frames = np.lib.stride_tricks.sliding_window_view(x, N_FFT)[:: N_FFT // 4] * np.hanning(N_FFT)
    return 10 * np.log10(np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0) + 1e-10)


def fit_curve(real: list, recon: list, sr: int, max_boost: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Sixth-octave points (freq_hz, gain_db) of the mean of real less reconstruction, level-free, at most
    ``max_boost`` dB up and MAX_GAIN_DB down."""
    diff = np.mean([log_power(a) - log_power(b) for a, b in zip(real, recon)], axis=0)
    bins = np.fft.rfftfreq(N_FFT, 1.0 / sr)
    centres = 60.0 * 2 ** (np.arange(0, 6 * np.log2(sr / 2 / 60.0) + 1) / 6)
    centres = centres[centres < 0.95 * sr / 2]
    pts = [(f, float(diff[(bins >= f * 2 ** (-1 / 12)) & (bins < f * 2 ** (1 / 12))].mean()))
           for f in centres if ((bins >= f * 2 ** (-1 / 12)) & (bins < f * 2 ** (1 / 12))).any()]
    freqs, gains = np.array([p[0] for p in pts]), np.array([p[1] for p in pts])
    return freqs, np.clip(gains - gains.mean(), -MAX_GAIN_DB, min(max_boost, MAX_GAIN_DB))


def check(models: ModelSet, crops: list, level: int, curve) -> dict:
    """Held-out reconstructions of ``level`` without and with the EQ, against the real audio."""
    sr, h = models.sr, eq_filter(*curve, models.sr)
    rows: dict = {"real": [], "reconstructed": [], "reconstructed_eq": []}
    dist: dict = {"reconstructed": [], "reconstructed_eq": []}
    for x in crops:
        r = reconstruct(models, x, level)
        r_eq = apply_filter(r[None], h)[0]
        for name, a in (("real", x), ("reconstructed", r), ("reconstructed_eq", r_eq)):
            rows[name].append({k: v for k, v in stats(a, sr).items() if k in ("centroid_hz", "top20_energy_fraction",
                                                                                "spectral_flatness")})
        dist["reconstructed"].append(profile_distance(r, x, sr))
        dist["reconstructed_eq"].append(profile_distance(r_eq, x, sr))
    return {"heldout_crops": len(crops),
            "spectral_distance_to_real_db": {k: round(float(np.mean(v)), 2) for k, v in dist.items()},
            "eq_closer_crops": int(sum(b < a for a, b in zip(dist["reconstructed"], dist["reconstructed_eq"]))),
            **{k: mean_stats(v) for k, v in rows.items()}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the built demo set (studio data build)")
    ap.add_argument("--models", default=str(ROOT / "models" / "demo"))
    ap.add_argument("--every", type=int, default=8, help="fit on every N-th training item")
    ap.add_argument("--levels", default="0", help="levels to fit (default 0, the finished render: on the demo the "
                    "cuts that bring levels 1-2 closer to real audio also lower their tonal share, 0.93 -> 0.90 "
                    "and 0.88 -> 0.84)")
    ap.add_argument("--max-boost", type=float, default=0.0, help="dB a band may be raised (default 0: cuts only)")
    ap.add_argument("--write", action="store_true", help="write MODELS/render_eq.json")
    args = ap.parse_args(argv)
    models = ModelSet.from_folder(args.models, name="demo")
    data = load_audio_set(args.data, models.sr,
                          keep=lambda it: it["split"] == "heldout" or int(it["id"]) % args.every == 0)
    top = models.hop_lengths[-1]
    train = middle_crops(data.split("train").clips, models.sr, top)
    held = middle_crops(data.split("heldout").clips, models.sr, top)
    curves = {}
    measured = {"train_crops": len(train), "seconds_each": SECONDS, "max_boost_db": args.max_boost, "levels": {}}
    for level in (int(v) for v in args.levels.split(",")):
        curves[level] = fit_curve(train, [reconstruct(models, x, level) for x in train], models.sr, args.max_boost)
        measured["levels"][str(level)] = check(models, held, level, curves[level])
        print(json.dumps({"level": level, **measured["levels"][str(level)],
                          "gain_db": [round(float(g), 1) for g in curves[level][1]]}), flush=True)
    if args.write:
        print(f"wrote {write_render_eq(eq_file(models), curves, measured)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
