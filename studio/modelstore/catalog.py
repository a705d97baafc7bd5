"""The official Jukebox files: where they live upstream, where they go in a model folder, what they weigh.

A model folder mirrors the official relative paths (``5b/vqvae.pth.tar``, ``5b_lyrics/prior_level_2.pth.tar``), so a
mirror only has to serve the same tree, and puts the artist/genre tables in ``ids/`` (see docs/MODELS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from studio.engine.configs import OFFICIAL_MODELS, official_config, official_file

DEFAULT_BASE_URL = "https://openaipublic.azureedge.net/"  # the reference's REMOTE_PREFIX
IDS_BASE_URL = "https://raw.githubusercontent.com/openai/jukebox/master/"  # the upstream repository, raw files
WEIGHTS_PREFIX = "jukebox/models/"  # URL path of the checkpoints under the base (and under a mirror)
IDS_PREFIX = "jukebox/data/ids/"  # URL path of the artist/genre tables under the repository (and under a mirror)
LEVELS = ("vqvae", 0, 1, 2)

# sha256 of the upstream tables (byte-identical copies were checked at upstream commit 08efbbc, see SOURCE.md).
IDS_SHA256 = {
    "v2_artist_ids.txt": "fce2ecc0c7b00838cf8cc90273609c5460fa1ec8d3211ce9f6546ed792feb001",
    "v2_genre_ids.txt": "04d7c5e5f0002c74789ee2a72a1e33f11057eb6c183ed0cf8f4b140164197e48",
    "v3_artist_ids.txt": "85ab98ca035945a917ec3d3e1f06bcd938767196281cfb8caecf058872a9e9ed",
    "v3_genre_ids.txt": "f85f72dca1e6052da129041bb927e29eb143e5f1450951006565f4a8af6f31cb",
}


@dataclass(frozen=True)
class FileSpec:
    """One file a model folder needs."""

    path: str  # relative path inside the model folder, "/"-separated, e.g. "5b/vqvae.pth.tar"
    url: str  # where to fetch it
    role: str  # "vqvae", "prior_level_0".."prior_level_2" or "ids"
    sha256: Optional[str] = None  # known in advance (the tables); None: recorded on first download
    approx_size: Optional[int] = None  # bytes, a lower bound used when the server sends no Content-Length


def join_url(base: str, path: str) -> str:
    """``join_url("http://h/m", "jukebox/x") -> "http://h/m/jukebox/x"`` (exactly one slash between)."""
    return base.rstrip("/") + "/" + path.lstrip("/")


def is_official(name: str) -> bool:
    return name in OFFICIAL_MODELS


def ids_tables(name: str) -> list[str]:
    """Table files a model needs: v2 for 5b, 5b_lyrics and every upsampler; v3 too for the 1b_lyrics top level."""
    files = ["v2_artist_ids.txt", "v2_genre_ids.txt"]
    if official_config(name, 2).labels_v3:
        files += ["v3_artist_ids.txt", "v3_genre_ids.txt"]
    return files


def approx_checkpoint_bytes(name: str, level) -> int:
    """Tensor bytes of an official checkpoint as the reference builds it (fp16 Conv1D weights for 5b tops).

    The real file adds a little pickle overhead (and whatever else OpenAI saved), so this is a lower bound.
    """
    from studio.engine.memory import state_numel_by_dtype

    cfg = official_config(name, level)
    sizes = {"float32": 4, "float16": 2}
    return sum(sizes[dt] * n for dt, n in state_numel_by_dtype(cfg).items())


def official_files(name: str, mirror: Optional[str] = None) -> list[FileSpec]:
    """Every file of an official model, in download order (small first).

    Args:
        name: ``5b``, ``5b_lyrics`` or ``1b_lyrics``.
        mirror: another base URL serving the same tree: ``{mirror}/jukebox/models/5b/vqvae.pth.tar`` and
            ``{mirror}/jukebox/data/ids/v2_artist_ids.txt``. None: the official addresses.
    """
    if not is_official(name):
        from studio.modelstore.errors import UnknownModelError

        raise UnknownModelError(
            f"{name!r} is not an official Jukebox model", f"choose one of {', '.join(OFFICIAL_MODELS)}"
        )
    weights_base = join_url(mirror, WEIGHTS_PREFIX) if mirror else join_url(DEFAULT_BASE_URL, WEIGHTS_PREFIX)
    ids_base = join_url(mirror, IDS_PREFIX) if mirror else join_url(IDS_BASE_URL, IDS_PREFIX)
    specs = [
        FileSpec(path=f"ids/{t}", url=join_url(ids_base, t), role="ids", sha256=IDS_SHA256[t])
        for t in ids_tables(name)
    ]
    for level in LEVELS:
        rel = official_file(name, level)
        role = "vqvae" if level == "vqvae" else f"prior_level_{level}"
        specs.append(
            FileSpec(path=rel, url=join_url(weights_base, rel), role=role, approx_size=approx_checkpoint_bytes(name, level))
        )
    return specs


def shared_paths() -> set[str]:
    """Files every official model holds identically (the VQ-VAE and both upsamplers), candidates for hard links."""
    return {official_file("5b", level) for level in ("vqvae", 0, 1)}
