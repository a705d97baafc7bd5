"""Training data for the priors: every clip encoded once by the VQ-VAE, and the label tables of a run.

The code cache is a torch zip of int16 tensors and plain values (read back with ``weights_only=True``), keyed by
a fingerprint of the VQ-VAE's encoders and codebooks so that a retrained VQ-VAE never reuses stale codes.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from studio.engine.labels import _read_table, normalise_v2
from studio.engine.vqvae import VQVAE

from .data import AudioSet

log = logging.getLogger(__name__)

CHUNK_SECONDS = 32.0  # encode long clips in pieces of about this length (bounded memory)


@dataclass
class CodedClip:
    codes: list  # per level: (T_L,) int64 numpy
    length: int  # raw samples
    artist: str
    genre: str
    lyrics: str
    split: str
    name: str = ""


@dataclass
class CodeSet:
    sr: int
    hop_lengths: list
    clips: list = field(default_factory=list)

    def split(self, name: str) -> "CodeSet":
        return CodeSet(self.sr, self.hop_lengths, [c for c in self.clips if c.split == name])


def vqvae_fingerprint(vqvae: VQVAE) -> str:
    """Hash of what the codes depend on: the encoders and codebooks (a decoder tuned later keeps the cache valid)."""
    h = hashlib.sha256()
    for k, v in sorted(vqvae.state_dict().items()):
        if k.startswith("decoders."):
            continue
        h.update(k.encode())
        h.update(v.detach().float().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


@torch.no_grad()
def encode_clip(vqvae: VQVAE, audio: np.ndarray, device: torch.device) -> list:
    """(T,) float audio -> codes per level (level 0 first); the tail short of one top token is dropped."""
    top = vqvae.hop_lengths[-1]
    chunk = max(top, int(CHUNK_SECONDS * vqvae.sr) // top * top)
    usable = len(audio) // top * top
    parts: list = [[] for _ in vqvae.hop_lengths]
    for s in range(0, usable, chunk):
        x = torch.from_numpy(np.ascontiguousarray(audio[s:min(s + chunk, usable)])).float().to(device)[None]
        for lv, z in enumerate(vqvae.encode(x)):
            parts[lv].append(z[0].cpu().numpy())
    return [np.concatenate(p) if p else np.zeros(0, np.int64) for p in parts]


def encode_set(vqvae: VQVAE, data: AudioSet, device: torch.device = torch.device("cpu"),
               progress: Optional[Callable[[int, int], None]] = None) -> CodeSet:
    vqvae = vqvae.to(device).eval()
    out = CodeSet(vqvae.sr, list(vqvae.hop_lengths))
    for i, clip in enumerate(data.clips):
        codes = encode_clip(vqvae, clip.audio, device)
        out.clips.append(CodedClip(codes, len(clip.audio), clip.artist, clip.genre, clip.lyrics, clip.split, clip.name))
        if progress:
            progress(i + 1, len(data.clips))
    return out


def save_codes(path: Path, codes: CodeSet, fingerprint: str) -> None:
    payload = {"fingerprint": fingerprint, "sr": codes.sr, "hop_lengths": list(codes.hop_lengths),
               "clips": [{"codes": [torch.from_numpy(z.astype(np.int16)) for z in c.codes], "length": c.length,
                          "artist": c.artist, "genre": c.genre, "lyrics": c.lyrics, "split": c.split,
                          "name": c.name} for c in codes.clips]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def load_codes(path: Path, fingerprint: Optional[str] = None) -> Optional[CodeSet]:
    """The cached codes, or None when absent or made by another VQ-VAE."""
    if not path.is_file():
        return None
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if fingerprint is not None and payload.get("fingerprint") != fingerprint:
        log.info("%s was made by another VQ-VAE; encoding again", path)
        return None
    out = CodeSet(int(payload["sr"]), list(payload["hop_lengths"]))
    for c in payload["clips"]:
        out.clips.append(CodedClip([z.numpy().astype(np.int64) for z in c["codes"]], int(c["length"]), c["artist"],
                                   c["genre"], c["lyrics"], c["split"], c.get("name", "")))
    return out


def cached_codes(vqvae: VQVAE, data_loader: Callable[[], AudioSet], cache: Path, device: torch.device,
                 progress: Optional[Callable[[int, int], None]] = None) -> CodeSet:
    """Codes from ``cache`` when it matches ``vqvae``, else encode ``data_loader()`` and write the cache."""
    fp = vqvae_fingerprint(vqvae)
    found = load_codes(cache, fp)
    if found is not None:
        return found
    codes = encode_set(vqvae, data_loader(), device, progress)
    save_codes(cache, codes, fp)
    return codes


# --- label tables ---------------------------------------------------------------------------------------------


def genre_words(genre: str) -> list[str]:
    """The v2 bag of words of a genre name ("String Quartet" -> ["string", "quartet"])."""
    return [w for w in normalise_v2(genre or "").split("_") if w]


def build_tables(artists: list[str], genres: list[str], base: Optional[Path] = None,
                 limits: tuple[int, int] = (10**9, 10**9)) -> tuple[dict, dict]:
    """v2 tables {normalised name: id} with ``unknown`` = 0, extending those in ``base`` (an ids folder).

    ``limits`` = (genre bins, artist bins) of the prior: names past them are left out (they read as 'unknown').
    """
    art: dict = {"unknown": 0}
    gen: dict = {"unknown": 0}
    if base is not None and (base / "v2_artist_ids.txt").is_file():
        art.update(_read_table(base / "v2_artist_ids.txt"))
        gen.update(_read_table(base / "v2_genre_ids.txt"))
    for name in sorted({normalise_v2(a) for a in artists} - {"", "unknown"}):
        if name not in art and len(art) < limits[1]:
            art[name] = max(art.values()) + 1
    for word in sorted({w for g in genres for w in genre_words(g)} - {"unknown"}):
        if word not in gen and len(gen) < limits[0]:
            gen[word] = max(gen.values()) + 1
    return art, gen


def write_tables(ids_dir: Path, artists: dict, genres: dict) -> None:
    ids_dir.mkdir(parents=True, exist_ok=True)
    for fname, table in (("v2_artist_ids.txt", artists), ("v2_genre_ids.txt", genres)):
        lines = [f"{n};{i}" for n, i in sorted(table.items(), key=lambda kv: kv[1])]
        (ids_dir / fname).write_text("\n".join(lines) + "\n", encoding="utf-8")
