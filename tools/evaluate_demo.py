"""Measure the bundled demo model and write the figures into its MODEL_CARD.md (or print them).

    python tools/evaluate_demo.py --data /work/data/demo [--models models/demo] [--codes RUN/codes.pt]
                                  [--out eval_out] [--write-card] [--quick] [--priming-clips N] [--only-priming]

1. VQ-VAE: per-level spectral convergence (dB) and log-spectral distance (dB) on held-out clips.
2. Priors: held-out bits per token for each level against a unigram baseline fitted on the training codes, and
   the same windows with artist/genre set to "unknown" (what the labels are worth, in bits per token), and the top
   prior on the sung held-out clips with their own lyrics, none, or another clip's.
3. Conditioning: top-level samples made for different genres, told apart by a logistic-regression classifier
   trained on real (training-split) audio; accuracy against chance.
4. Where the music is lost: held-out audio, its level-0 reconstruction, and the upsamplers' renderings of its real
   upper codes, by tonality (energy in the 20 strongest bins), onsets, brightness and loudness.
5. Priming: the second after a held-out prompt, primed against unprimed, by its similarity to the prompt.
6. Listening check: a few full three-level renders written to ``OUT/samples`` with the same statistics next to
   those of real held-out audio.
Everything is seeded; reruns give the same figures on the same machine.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studio.engine.cascade import decode_codes, run_take  # noqa: E402
from studio.engine.jobs import new_take  # noqa: E402
from studio.engine.loudness import set_loudness  # noqa: E402
from studio.engine.modelset import ModelSet  # noqa: E402
from studio.engine.spec import SongSpec  # noqa: E402
from studio.train.codes import encode_set, load_codes  # noqa: E402
from studio.train.data import AudioSet, load_audio_set  # noqa: E402
from studio.train.losses import log_spectral_distance, spectral_convergence  # noqa: E402
from studio.train.prior_trainer import WindowSampler, heldout_bits, unigram_bits  # noqa: E402

PAPER_SC_DB = {0: -21.1, 1: -12.4, 2: -8.3}  # Jukebox paper, spectral convergence by level; recalled, NOT verified


def crops(data: AudioSet, seconds: float, per_clip: int, multiple: int) -> list[tuple[np.ndarray, str, str]]:
    """Deterministic evenly spaced crops (audio, artist, genre) of ``seconds``, a multiple of ``multiple``."""
    n = int(seconds * data.sr) // multiple * multiple
    out = []
    for c in data.clips:
        if len(c.audio) < n:
            continue
        for s in np.linspace(0, len(c.audio) - n, per_clip).astype(int):
            out.append((c.audio[s:s + n], c.artist, c.genre))
    return out


@torch.no_grad()
def eval_vqvae(models: ModelSet, held: AudioSet, seconds: float = 4.0) -> dict:
    vq = models.vqvae
    items = crops(held, seconds, 2, vq.hop_lengths[-1])
    x = torch.from_numpy(np.stack([a for a, _, _ in items]))
    res = {"clips": len(items), "seconds_each": seconds}
    for lv in range(3):
        x_hat = torch.cat([vq.decode(vq.encode(x[i:i + 8], lv, lv + 1), start_level=lv) for i in range(0, len(x), 8)])
        sc = spectral_convergence(x, x_hat)
        res[f"level_{lv}"] = {"hop": vq.hop_lengths[lv],
                              "spectral_convergence_db": round(float((20 * torch.log10(sc)).mean()), 2),
                              "log_spectral_distance_db": round(float(log_spectral_distance(x, x_hat).mean()), 2),
                              "paper_spectral_convergence_db": PAPER_SC_DB[lv]}
    return res


def eval_priors(models: ModelSet, held_codes, train_codes) -> dict:
    out = {}
    for lv in (2, 1, 0):
        prior = models.prior(lv)
        sampler = WindowSampler(prior.cfg, held_codes, prior.labeller)
        bits = heldout_bits(prior, sampler, max_windows=48)
        uni = unigram_bits(train_codes, held_codes, lv, prior.cfg.bins)
        out[f"level_{lv}"] = {"heldout_bits_per_token": round(bits["bits_per_token"], 3),
                              "unigram_bits_per_token": round(uni, 3), "uniform_bits": round(np.log2(prior.cfg.bins), 3),
                              "windows": bits["windows"]}
        if prior.cfg.has_lyrics:
            out[f"level_{lv}"]["lyric_bits_per_char"] = round(bits["lyric_bits_per_token"], 3)
        # The same windows told "unknown" artist and genre: how many bits per token the labels are worth. Above
        # zero means the prior uses them (the conditioning carries information into its predictions).
        blind = heldout_bits(prior, WindowSampler(prior.cfg, unlabelled(held_codes), prior.labeller),
                             max_windows=48)
        out[f"level_{lv}"]["bits_per_token_labels_unknown"] = round(blind["bits_per_token"], 3)
        out[f"level_{lv}"]["label_gain_bits_per_token"] = round(blind["bits_per_token"] - bits["bits_per_token"], 3)
    return out


def eval_lyrics(models: ModelSet, held_codes) -> dict:
    """Top prior's bits per music token on the held-out sung clips with their own lyrics, none, and another clip's:
    does it use whether a window is sung, and which words?"""
    prior = models.prior(2)
    sung = [c for c in held_codes.clips if c.lyrics.strip()]
    if not sung:
        return {"sung_clips": 0}
    variants = {"own_lyrics": sung, "no_lyrics": [replace(c, lyrics="") for c in sung],
                "another_clips_lyrics": [replace(c, lyrics=sung[(i + 1) % len(sung)].lyrics)
                                         for i, c in enumerate(sung)]}
    out: dict = {"sung_clips": len(sung)}
    for name, clips in variants.items():
        sampler = WindowSampler(prior.cfg, with_clips(held_codes, clips), prior.labeller)
        out[f"bits_per_token_{name}"] = round(heldout_bits(prior, sampler, max_windows=48)["bits_per_token"], 4)
    return out


def with_clips(codes, clips):
    """A code set like ``codes`` holding ``clips``."""
    return type(codes)(codes.sr, codes.hop_lengths, clips)


def unlabelled(codes):
    """The same clips with artist and genre replaced by "unknown" (lyrics and timing kept)."""
    return with_clips(codes, [replace(c, artist="unknown", genre="unknown") for c in codes.clips])


def level0_candidates(take, models: ModelSet) -> list[np.ndarray]:
    """Run ``take`` to the end and return every candidate's level-0 audio."""
    audio: list[np.ndarray] = []
    for ev in run_take(take, models):
        if type(ev).__name__ == "LevelDone" and ev.level == 0:
            audio = [np.asarray(a, np.float32) for a in ev.audio]
    return audio


def level0_audio(take, models: ModelSet) -> np.ndarray:
    """Run ``take`` to the end and return its first candidate's level-0 audio."""
    return level0_candidates(take, models)[0]


# --- a small audio classifier -----------------------------------------------------------------------------------


def features(x: np.ndarray, sr: int) -> np.ndarray:
    """Mean and std over time of 40 log-spaced band energies (dB), plus their mean delta: (120,)."""
    spec = torch.stft(torch.from_numpy(x).float(), 1024, 256, window=torch.hann_window(1024), return_complex=True)
    mag = spec.abs().numpy() ** 2  # (513, frames)
    freqs = np.linspace(0, sr / 2, mag.shape[0])
    edges = np.geomspace(60, sr / 2, 41)
    bands = np.stack([mag[(freqs >= a) & (freqs < b)].sum(0) for a, b in zip(edges[:-1], edges[1:])])
    db = 10 * np.log10(bands + 1e-9)
    return np.concatenate([db.mean(1), db.std(1), np.abs(np.diff(db, axis=1)).mean(1)])


class Classifier:
    """Standardised features -> softmax regression (torch, L2-regularised)."""

    def fit(self, f: np.ndarray, y: np.ndarray, classes: int, steps: int = 500):
        self.mu, self.sd = f.mean(0), f.std(0) + 1e-6
        xt = torch.from_numpy((f - self.mu) / self.sd).float()
        yt = torch.from_numpy(y).long()
        torch.manual_seed(0)
        self.lin = torch.nn.Linear(f.shape[1], classes)
        opt = torch.optim.Adam(self.lin.parameters(), lr=0.05, weight_decay=1e-3)
        for _ in range(steps):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(self.lin(xt), yt).backward()
            opt.step()
        return self

    @torch.no_grad()
    def predict(self, f: np.ndarray) -> np.ndarray:
        return self.lin(torch.from_numpy((f - self.mu) / self.sd).float()).argmax(-1).numpy()


def eval_conditioning(models: ModelSet, train: AudioSet, held: AudioSet, genres: list[str], per_genre: int,
                      seconds: float, tmp: Path, seed: int = 100) -> dict:
    sr = models.sr
    pick = lambda d: [(a, genres.index(g)) for a, _, g in crops(d, seconds, 4, 256) if g in genres]  # noqa: E731
    tr, te = pick(train), pick(held)
    y_tr, y_te = np.array([y for _, y in tr]), np.array([y for _, y in te])
    vq = models.vqvae

    @torch.no_grad()
    def top_rec(a: np.ndarray) -> np.ndarray:  # real audio through the top level, at the loudness renders get
        x = vq.decode(vq.encode(torch.from_numpy(a)[None], 2, 3), start_level=2).numpy()
        return set_loudness(x, np.ones(x.shape, bool))[0]

    f_tr = np.stack([features(a, sr) for a, _ in tr])
    f_te = np.stack([features(a, sr) for a, _ in te])
    f_tr_rec = np.stack([features(top_rec(a), sr) for a, _ in tr])
    f_te_rec = np.stack([features(top_rec(a), sr) for a, _ in te])
    # A: trained on the real audio; B: trained on the same real audio through the VQ-VAE's top level (the domain
    # that top-level samples live in)
    clf_a = Classifier().fit(f_tr, y_tr, len(genres))
    clf_b = Classifier().fit(f_tr_rec, y_tr, len(genres))
    checks = {"A_real_on_real_heldout": float(np.mean(clf_a.predict(f_te) == y_te)),
              "A_real_on_heldout_top_level_reconstructions": float(np.mean(clf_a.predict(f_te_rec) == y_te)),
              "B_reconstructed_on_heldout_top_level_reconstructions": float(np.mean(clf_b.predict(f_te_rec) == y_te))}
    feats, labels = [], []
    for gi, genre in enumerate(genres):
        artist = next((c.artist for c in train.clips if c.genre == genre), "unknown")
        spec = SongSpec(seconds=seconds, artist=artist, genre=genre, candidates=per_genre, levels="top", seed=seed + gi,
                        song_seconds=60.0, device="cpu")
        take = new_take(spec, tmp / f"cond_{gi}", models)
        for ev in run_take(take, models):
            if type(ev).__name__ == "LevelDone":
                for a in ev.audio:
                    feats.append(features(np.asarray(a, np.float32), sr))
                    labels.append(gi)
    res = {"genres": genres, "seed": seed, "samples_per_genre": per_genre, "seconds": seconds, "chance": round(1 / len(genres), 3),
           "real_train_crops": len(tr), "real_heldout_crops": len(te),
           **{k: round(v, 3) for k, v in checks.items()}}
    for name, clf in (("A", clf_a), ("B", clf_b)):
        pred = clf.predict(np.stack(feats))
        conf = np.zeros((len(genres), len(genres)), int)
        for t, p in zip(labels, pred):
            conf[t, p] += 1
        res[f"{name}_accuracy_on_generated"] = round(float(np.mean(pred == np.array(labels))), 3)
        res[f"{name}_confusion_rows_true_cols_pred"] = conf.tolist()
    return res


def stats(x: np.ndarray, sr: int) -> dict:
    """Loudness, brightness, noisiness, tonality and note onsets of a render (what the listening check reads)."""
    spec = np.abs(torch.stft(torch.from_numpy(np.asarray(x, np.float32)), 1024, 256, window=torch.hann_window(1024),
                             return_complex=True).numpy())
    freqs = np.linspace(0, sr / 2, spec.shape[0])
    p = spec ** 2
    centroid = float((freqs[:, None] * p).sum(0).mean() / max(p.sum(0).mean(), 1e-12))
    flat = float(np.mean(np.exp(np.mean(np.log(p + 1e-12), 0)) / (np.mean(p, 0) + 1e-12)))
    frame_db = 10 * np.log10(np.mean(x[: len(x) // 512 * 512].reshape(-1, 512) ** 2, 1) + 1e-12)
    # tonality: share of each frame's energy in its 20 strongest bins (clean notes ~0.9, noise far less)
    top20 = float(np.mean(np.sort(p, 0)[-20:].sum(0) / (p.sum(0) + 1e-12)))
    # onsets: the frame energy rising 6 dB within 4 frames (64 ms at 16 kHz), counted per 10 s
    energy = 10 * np.log10(p.sum(0) + 1e-9)
    rise = energy[4:] - energy[:-4]
    onsets = int(np.sum((rise[1:] > 6) & (rise[:-1] <= 6)))
    return {"rms_dbfs": round(float(10 * np.log10(np.mean(x ** 2) + 1e-12)), 1), "centroid_hz": round(centroid),
            "spectral_flatness": round(flat, 3), "active_frames": round(float(np.mean(frame_db > -45)), 2),
            "top20_energy_fraction": round(top20, 3), "onsets_per_10s": round(onsets * 10 * sr / max(len(x), 1), 1),
            "clipped_fraction": round(float(np.mean(np.abs(x) >= 0.999)), 4)}


def mean_stats(rows: list[dict]) -> dict:
    return {k: round(float(np.mean([r[k] for r in rows])), 3) for k in rows[0]}


@torch.no_grad()
def eval_upsampling(models: ModelSet, held: AudioSet, tmp: Path, clips: int = 3, seconds: float = 6.0) -> dict:
    """Where a render loses the music: held-out audio, its level-0 reconstruction, and the bottom upsampler's
    rendering of its real level-1 codes (and the cascade below its real top codes), by the same statistics."""
    vq, sr = models.vqvae, models.sr
    n = int(seconds * sr) // vq.hop_lengths[-1] * vq.hop_lengths[-1]
    picked = [c for c in held.clips if len(c.audio) >= n][:clips]
    rows: dict = {"real": [], "reconstructed_level_0": [], "upsampled_from_real_level_1": [],
                  "upsampled_from_real_level_2": []}
    for i, c in enumerate(picked):
        mid = len(c.audio) // 2 - n // 2
        x = torch.from_numpy(c.audio[mid:mid + n].copy()).float()[None]
        zs = vq.encode(x)
        rows["real"].append(stats(x[0].numpy(), sr))
        rows["reconstructed_level_0"].append(stats(vq.decode(zs[0], 0)[0].numpy(), sr))
        for keep in (1, 2):
            spec = SongSpec(seconds=seconds, artist=c.artist, genre=c.genre, candidates=1, seed=3 + i,
                            song_seconds=60.0, device="cpu")
            take = new_take(spec, tmp / f"up_{i}_{keep}", models)
            for lv in range(keep, 3):
                take.write_codes(lv, zs[lv].numpy())
            rows[f"upsampled_from_real_level_{keep}"].append(stats(level0_audio(take, models), sr))
    return {"clips": len(picked), "seconds_each": seconds, **{k: mean_stats(v) for k, v in rows.items()}}


def band_profile(x: np.ndarray, sr: int) -> np.ndarray:
    """The mean 40-band log spectrum (dB) of ``x``: the first part of :func:`features`."""
    return features(x, sr)[:40]


def profile_distance(a: np.ndarray, b: np.ndarray, sr: int) -> float:
    """RMS difference (dB) of two clips' mean band spectra, each less its own mean level (loudness does not count):
    0 = the same spectral character."""
    pa, pb = band_profile(a, sr), band_profile(b, sr)
    return float(np.sqrt(np.mean(np.square((pa - pa.mean()) - (pb - pb.mean())))))


@torch.no_grad()
def eval_priming(models: ModelSet, held: AudioSet, tmp: Path, clips: int = 12, prompt_s: float = 2.0,
                 seconds: float = 4.0) -> dict:
    """Does a primed render keep the prompt's character past the prompt? For held-out clips: the spectral distance
    of the second after the prompt to the prompt (:func:`profile_distance`) and its tonal share, for the primed
    render, an unprimed render with the same labels and seed, and the real audio that followed the prompt; and in
    how many clips the primed second is the closer of the two renders. Renders are darker than real audio whatever
    they continue, so each distance is also taken in its own domain (``..._same_domain``): a render's second
    against the prompt as the model renders it (the primed render's first seconds: the prompt's codes decoded), the
    real continuation against the real prompt. Two more renders place the loss: the clip's own codes decoded
    (``reconstruction``: what the VQ-VAE keeps of the real continuation) and the cascade below its real top-level codes
    (``real_top_codes``: a top prior that continued the prompt perfectly); the primed render's distance less these
    is what the upsamplers and the top prior lose."""
    import soundfile as sf

    sr = models.sr
    n, p, one = int(seconds * sr), int(prompt_s * sr), sr
    picked = [c for c in held.clips if len(c.audio) >= n][:clips]
    rows: dict = {"primed": [], "unprimed": [], "real_top_codes": [], "reconstruction": [], "real_continuation": []}
    for i, c in enumerate(picked):
        start = len(c.audio) // 2 - n // 2
        real = c.audio[start:start + n]
        prompt = real[:p]
        sf.write(tmp / f"prompt_{i}.wav", prompt, sr)
        zs = models.vqvae.encode(torch.from_numpy(real.copy()).float()[None])
        audio = {"real_continuation": real, "reconstruction": decode_codes(models, zs[0].numpy(), 0)[0]}
        for name, prime in (("primed", {"file": str(tmp / f"prompt_{i}.wav")}), ("unprimed", None),
                            ("real_top_codes", None)):
            spec = SongSpec(seconds=seconds, artist=c.artist, genre=c.genre, candidates=1, seed=21 + i,
                            song_seconds=60.0, device="cpu", prime=prime)
            take = new_take(spec, tmp / f"prime_{i}_{name}", models)
            if name == "real_top_codes":
                take.write_codes(2, zs[2].numpy())
            audio[name] = level0_audio(take, models)
        rendered_prompt = audio["primed"][:p]
        for name, x in audio.items():
            after = x[p:p + one]
            own_prompt = prompt if name == "real_continuation" else rendered_prompt
            rows[name].append({"spectral_distance_to_prompt_db": profile_distance(after, prompt, sr),
                               "spectral_distance_same_domain_db": profile_distance(after, own_prompt, sr),
                               "top20_energy_fraction": stats(after, sr)["top20_energy_fraction"]})

    def by_clip(key: str) -> dict:
        return {k: [round(r[key], 2) for r in v] for k, v in rows.items()}

    def primed_closer(key: str) -> int:
        return int(sum(a[key] < b[key] for a, b in zip(rows["primed"], rows["unprimed"])))

    return {"clips": len(picked), "prompt_seconds": prompt_s, "measured_second": [prompt_s, prompt_s + 1],
            **{k: mean_stats(v) for k, v in rows.items()},
            "primed_closer_clips": primed_closer("spectral_distance_to_prompt_db"),
            "primed_closer_clips_same_domain": primed_closer("spectral_distance_same_domain_db"),
            "distance_by_clip_db": by_clip("spectral_distance_to_prompt_db"),
            "distance_same_domain_by_clip_db": by_clip("spectral_distance_same_domain_db")}


def render_samples(models: ModelSet, held: AudioSet, out: Path, seconds: float, tmp: Path) -> dict:
    import soundfile as sf

    specs = [("Johann Sebastian Bach", "chorale", "Nun danket alle Gott mit Herzen Mund und Haenden"),
             ("Trad. Irish (O'Neill)", "reel", ""), ("unknown", "unknown", "")]
    out.mkdir(parents=True, exist_ok=True)
    res = {"real_heldout": stats(np.concatenate([c.audio for c in held.clips]), models.sr), "samples": []}
    for genre in sorted({g for _, g, _ in specs} & {c.genre for c in held.clips}):  # the same genre, real
        res[f"real_heldout_{genre.replace(' ', '_')}"] = stats(
            np.concatenate([c.audio for c in held.clips if c.genre == genre]), models.sr)
    for i, (artist, genre, lyrics) in enumerate(specs):
        spec = SongSpec(seconds=seconds, artist=artist, genre=genre, lyrics=lyrics, candidates=1, seed=7 + i,
                        song_seconds=60.0, device="cpu")
        take = new_take(spec, tmp / f"render_{i}", models)
        t0 = time.time()
        audio = level0_audio(take, models)
        name = re.sub("[^a-z0-9]+", "_", f"{i}_{artist}_{genre}".lower()).strip("_") + ".wav"
        sf.write(out / name, audio, models.sr)
        res["samples"].append({"file": str(out / name), "artist": artist, "genre": genre, "lyrics": lyrics,
                               "render_s": round(time.time() - t0, 1), **stats(audio, models.sr)})
    return res


def write_card(card: Path, figures: dict) -> None:
    text = card.read_text() if card.is_file() else ""
    block = "<!-- figures:start -->\n```json\n" + json.dumps(figures, indent=1) + "\n```\n<!-- figures:end -->"
    if "<!-- figures:start -->" in text:
        text = re.sub(r"<!-- figures:start -->.*<!-- figures:end -->", lambda _: block, text, flags=re.S)
    else:
        text += "\n\n## Figures (tools/evaluate_demo.py)\n\n" + block + "\n"
    card.write_text(text)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="the built demo set (studio data build)")
    ap.add_argument("--models", default=str(ROOT / "models" / "demo"))
    ap.add_argument("--codes", default=None, help="code cache of the training run (else a subset is encoded)")
    ap.add_argument("--out", default="demo_eval", help="folder for samples and figures.json")
    ap.add_argument("--write-card", action="store_true", help="put the figures into MODELS/MODEL_CARD.md")
    ap.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    ap.add_argument("--cond-seed", type=int, default=100, help="first seed of the conditioning samples (one per genre)")
    ap.add_argument("--genres", default="chorale,reel,string quartet", help="genres for the conditioning check")
    ap.add_argument("--priming-clips", type=int, default=12, help="held-out prompts for the priming check")
    ap.add_argument("--only-priming", action="store_true", help="run the priming check alone and print it")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    models = ModelSet.from_folder(args.models, name="demo")
    genres = args.genres.split(",")
    if args.only_priming:  # held-out prompts only: no training audio is read
        held = load_audio_set(args.data, models.sr, keep=lambda it: it["split"] == "heldout").split("heldout")
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps({"priming": eval_priming(models, held, Path(tmp), args.priming_clips)}), flush=True)
        return 0
    # held-out clips, and the training clips of the genres the conditioning check uses (plus every 8th for the
    # unigram baseline when no code cache is given)
    data = load_audio_set(args.data, models.sr,
                          keep=lambda it: it["split"] == "heldout" or it["genre"] in genres or int(it["id"]) % 8 == 0)
    train, held = data.split("train"), data.split("heldout")
    out = Path(args.out)
    figures: dict = {"heldout_clips": len(held.clips), "heldout_hours": round(held.seconds / 3600, 3)}
    t0 = time.time()
    figures["vqvae"] = eval_vqvae(models, held)
    print(json.dumps({"vqvae": figures["vqvae"]}), flush=True)
    train_codes = load_codes(Path(args.codes)) if args.codes else None
    if train_codes is None:
        sub = AudioSet(train.sr, [c for i, c in enumerate(train.clips) if i % 3 == 0])
        train_codes = encode_set(models.vqvae, sub)
    held_codes = encode_set(models.vqvae, held)
    figures["priors"] = eval_priors(models, held_codes, train_codes.split("train"))
    figures["priors"]["lyrics"] = eval_lyrics(models, held_codes)
    print(json.dumps({"priors": figures["priors"]}), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        figures["conditioning"] = eval_conditioning(models, train, held, genres,
                                                    3 if args.quick else 8, 6.0, Path(tmp), args.cond_seed)
        print(json.dumps({"conditioning": figures["conditioning"]}), flush=True)
        figures["upsampling"] = eval_upsampling(models, held, Path(tmp), 2 if args.quick else 3)
        print(json.dumps({"upsampling": figures["upsampling"]}), flush=True)
        figures["priming"] = eval_priming(models, held, Path(tmp), 2 if args.quick else args.priming_clips)
        print(json.dumps({"priming": figures["priming"]}), flush=True)
        figures["listening"] = render_samples(models, held, out / "samples", 4.0 if args.quick else 8.0, Path(tmp))
    figures["eval_seconds"] = round(time.time() - t0)
    out.mkdir(parents=True, exist_ok=True)
    (out / "figures.json").write_text(json.dumps(figures, indent=1))
    print(json.dumps(figures["listening"]), flush=True)
    if args.write_card:
        write_card(Path(args.models) / "MODEL_CARD.md", figures)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
