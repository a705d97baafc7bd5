"""The artist and genre map: a model's own label embeddings laid out in 2-D by t-SNE, cached once per table.

Similar artists (and genres) get similar embedding rows when the prior learns them, so a 2-D layout of the rows shows
clusters a musician can browse (the Jukebox paper shows this picture). Only rows that name a real label are laid out
(not "unknown", not rows the id tables leave unnamed).

The t-SNE is exact in its forces (every pair, van der Maaten & Hinton 2008; the input affinities come from each
row's 3 * perplexity nearest rows, beyond which they are negligible) and deterministic: PCA initialisation, ties
broken by a fixed-seed jitter. Its cost is O(N^2) per iteration, tens of milliseconds at 4,000 points on one core,
so a few thousand points take about a minute (750 iterations). Past :data:`EXACT_MAX` points (the 1b_lyrics model's
~7,900 artists) a cheaper first stage runs: the exact t-SNE of :data:`EXACT_MAX` fixed-seed landmark rows, then every
other row placed at the affinity-weighted mean of its nearest landmarks.

Layouts are cached as small JSON files under :func:`cache_dir`, named by a hash of the embedding rows and their names,
so a second open reads in milliseconds and a retrained model (or changed tables) computes a new one.
Plain numpy: no torch, no Qt (the studio process imports :class:`LabelLayout`).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from .labels import nearest_names, readable, search_names
from .paths import user_cache_dir

ALGORITHM = "exact-tsne-1"  # part of the cache key: a change to the layout's algorithm recomputes every map
EXACT_MAX = 5000  # rows laid out exactly; past this, landmarks (a few thousand points take about a minute)
PERPLEXITY = 30.0  # the usual neighbourhood size; smaller tables use (N - 1) / 3
PCA_DIMS = 50  # wide tables (5b: 4,800 columns) are reduced first: distances on 50 PCA dimensions keep the clusters
EXAGGERATION, EXAGGERATED_STEPS = 12.0, 250  # the early exaggeration phase that separates the clusters
STEPS = 750  # iterations in all


@dataclass(frozen=True)
class LabelLayout:
    """One table's named rows in 2-D.

    Attributes:
        kind: "artist" or "genre".
        names: each point's name as a musician types it ("alan jackson").
        ids: (N,) int64, each point's row of the embedding table.
        x, y: (N,) float32, the layout (t-SNE units, centred on 0).
    """

    kind: str
    names: tuple
    ids: np.ndarray = field(repr=False)
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)

    def matching(self, text: str) -> np.ndarray:
        """Indices of the names holding ``text`` (case, spaces and punctuation ignored), in map order."""
        held = set(search_names(text, self.names))
        return np.asarray([i for i, name in enumerate(self.names) if name in held], dtype=np.int64)

    def best_match(self, text: str) -> Optional[int]:
        """The index of the name nearest to ``text`` (one holding it if any, else the nearest spelling), or None."""
        held = [self.names[i] for i in self.matching(text)]
        best = nearest_names(text, held or self.names, 1)
        return self.names.index(best[0]) if best else None

    def to_json(self) -> dict:
        return {"kind": self.kind, "names": list(self.names), "ids": self.ids.tolist(),
                "x": self.x.tolist(), "y": self.y.tolist()}

    @classmethod
    def from_json(cls, data: dict) -> "LabelLayout":
        return cls(str(data["kind"]), tuple(data["names"]), np.asarray(data["ids"], dtype=np.int64),
                   np.asarray(data["x"], dtype=np.float32), np.asarray(data["y"], dtype=np.float32))


def cache_dir() -> Path:
    """Where layouts are kept: ``$XDG_CACHE_HOME/jukebox-studio/label-maps`` (``~/.cache`` by default), beside the
    compiled steps' cache (:func:`studio.engine.step_compile.cache_dir`)."""
    return user_cache_dir() / "label-maps"


def named_rows(table: dict, n_rows: int) -> tuple[tuple, np.ndarray]:
    """One readable name per embedding row a table names: (names, (N,) int64 ids), in id order.

    Skips id 0 ("unknown", "various", blank) and ids outside the ``n_rows`` rows; of several names for one row the
    first in the table wins.
    """
    first: dict[int, str] = {}
    for name, idx in table.items():
        if name and 0 < int(idx) < n_rows and int(idx) not in first:
            first[int(idx)] = name
    ids = sorted(first)
    return tuple(readable(first[i]) for i in ids), np.asarray(ids, dtype=np.int64)


# -- t-SNE ---------------------------------------------------------------------------------------------------------
def _pca(rows: np.ndarray, dims: int, seed: int = 0) -> np.ndarray:
    """(N, D) -> (N, dims) principal components, each signed so that its largest entry is positive.

    A wide table (5b: 4,000 rows of 4,800) goes through a fixed-seed randomised range finder (Halko et al. 2011, two
    power iterations): O(N D dims) instead of a full SVD's O(N D min(N, D)), the same leading components.
    """
    centred = rows - rows.mean(0)
    if min(centred.shape) > 2 * dims:
        basis = centred @ np.random.default_rng(seed).normal(size=(centred.shape[1], dims + 10))  # (N, dims + 10)
        for _ in range(2):
            basis = centred @ (centred.T @ np.linalg.qr(basis)[0])
        basis = np.linalg.qr(basis)[0]
        u, s, _ = np.linalg.svd(basis.T @ centred, full_matrices=False)
        u = basis @ u
    else:
        u, s, _ = np.linalg.svd(centred, full_matrices=False)
    pcs = u[:, :dims] * s[:dims]
    signs = np.sign(pcs[np.abs(pcs).argmax(0), np.arange(pcs.shape[1])])
    return pcs * np.where(signs == 0, 1.0, signs)


def _squared_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, D), (M, D) -> (N, M) squared Euclidean distances."""
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def _neighbour_affinities(dist: np.ndarray, perplexity: float) -> np.ndarray:
    """(N, K) squared distances to each row's K nearest -> (N, K) conditional affinities p_j|i whose entropy is
    log(perplexity), each row's Gaussian precision found by bisection."""
    target = np.log(perplexity)
    lo, hi = np.zeros(len(dist)), np.full(len(dist), np.inf)
    beta = np.ones(len(dist))
    dist = dist - dist[:, :1]  # shift by the nearest: the same affinities, no underflow
    for _ in range(64):
        p = np.exp(-dist * beta[:, None])
        total = p.sum(1)
        entropy = np.log(total) + beta * (dist * p).sum(1) / total
        too_flat = entropy > target
        lo = np.where(too_flat, beta, lo)
        hi = np.where(too_flat, hi, beta)
        beta = np.where(np.isinf(hi), beta * 2.0, (lo + hi) / 2.0)
    p = np.exp(-dist * beta[:, None])
    return p / p.sum(1, keepdims=True)


def _joint_affinities(x: np.ndarray, perplexity: float) -> np.ndarray:
    """(N, D) -> (N, N) float32 symmetric joint affinities P (sums to 1), from each row's 3 * perplexity nearest."""
    n = len(x)
    k = min(n - 1, int(3 * perplexity) + 1)
    dist = _squared_distances(x, x)
    np.fill_diagonal(dist, np.inf)
    near = np.argpartition(dist, k - 1, axis=1)[:, :k]  # (N, K)
    near_d = np.take_along_axis(dist, near, 1)
    order = np.argsort(near_d, axis=1, kind="stable")
    near, near_d = np.take_along_axis(near, order, 1), np.take_along_axis(near_d, order, 1)
    p = np.zeros((n, n), dtype=np.float32)
    np.put_along_axis(p, near, _neighbour_affinities(near_d, perplexity).astype(np.float32), 1)
    p += p.T
    p /= p.sum()
    return p


def _kl_gradient(p: np.ndarray, y: np.ndarray, w: np.ndarray, m: np.ndarray) -> np.ndarray:
    """The exact gradient (N, 2) of KL(P || Q) at layout ``y`` (N, 2); ``w``, ``m`` are (N, N) scratch buffers.

    dC/dy_i = 4 sum_j (p_ij - q_ij) w_ij (y_i - y_j), with w_ij = 1 / (1 + |y_i - y_j|^2) and q_ij = w_ij / Z.
    """
    yf = y.astype(np.float32)
    sq = (yf * yf).sum(1)
    ones = np.ones(len(y), np.float32)
    # one matmul gives 1 + |y_i|^2 + |y_j|^2 - 2 y_i.y_j = 1 + |y_i - y_j|^2: (N, 4) @ (4, N)
    np.matmul(np.column_stack([yf, sq, ones]), np.column_stack([-2.0 * yf, ones, sq + 1.0]).T, out=w)
    np.reciprocal(w, out=w)
    np.fill_diagonal(w, 0.0)
    z = float(w.sum(dtype=np.float64))
    np.multiply(p, z, out=m)
    m -= w
    m *= w  # (P - Q) * W * Z
    pulled = (m @ np.column_stack([yf, ones])).astype(np.float64)  # (N, 3): sum_j m_ij y_j, then sum_j m_ij
    return (4.0 / z) * (pulled[:, 2:] * y - pulled[:, :2])


def tsne(rows: np.ndarray, seed: int = 0, steps: int = STEPS) -> np.ndarray:
    """The exact t-SNE layout of ``rows`` (N, D) -> (N, 2) float64, the same for the same rows and seed.

    Perplexity 30 (or (N - 1) / 3 for small sets), PCA initialisation, early exaggeration, momentum and gains.
    """
    n = len(rows)
    x = np.asarray(rows, dtype=np.float64)
    if n < 3:
        return np.column_stack([np.arange(n) - (n - 1) / 2.0, np.zeros(n)])
    x = _pca(x, min(PCA_DIMS, *x.shape))
    x += np.random.default_rng(seed).normal(scale=1e-9 * (np.abs(x).max() or 1.0), size=x.shape)  # break ties
    p = _joint_affinities(x, min(PERPLEXITY, (n - 1) / 3.0))
    y = _pca(x, 2) if x.shape[1] >= 2 else np.column_stack([x[:, 0], np.zeros(n)])
    y = y / (np.std(y[:, 0]) or 1.0) * 1e-4
    rate = max(n / EXAGGERATION / 4.0, 50.0)
    step, gains = np.zeros_like(y), np.ones_like(y)
    w, m = np.empty((n, n), np.float32), np.empty((n, n), np.float32)
    p *= EXAGGERATION
    for it in range(steps):
        if it == EXAGGERATED_STEPS:
            p /= EXAGGERATION
        grad = _kl_gradient(p, y, w, m)
        gains = np.where(np.sign(grad) != np.sign(step), gains + 0.2, gains * 0.8).clip(0.01)
        step = (0.5 if it < EXAGGERATED_STEPS else 0.8) * step - rate * gains * grad
        y = y + step
        y -= y.mean(0)
    return y


def landmark_tsne(rows: np.ndarray, seed: int = 0, exact_max: int = EXACT_MAX) -> np.ndarray:
    """:func:`tsne` for any N: exact up to ``exact_max`` rows; past it, exact on ``exact_max`` fixed-seed landmarks
    and each other row placed at the affinity-weighted mean of its 10 nearest landmarks. (N, D) -> (N, 2)."""
    n = len(rows)
    if n <= exact_max:
        return tsne(rows, seed)
    x = _pca(np.asarray(rows, dtype=np.float64), min(PCA_DIMS, *np.shape(rows)))
    marks = np.sort(np.random.default_rng(seed).choice(n, exact_max, replace=False))
    out = np.empty((n, 2))
    out[marks] = tsne(x[marks], seed)
    rest = np.setdiff1d(np.arange(n), marks)
    dist = _squared_distances(x[rest], x[marks])
    near = np.argsort(dist, axis=1, kind="stable")[:, :10]
    weights = _neighbour_affinities(np.take_along_axis(dist, near, 1), 5.0)  # (R, 10)
    out[rest] = np.einsum("rk,rkc->rc", weights, out[marks][near])
    return out


# -- cached layouts ------------------------------------------------------------------------------------------------
def table_key(kind: str, names: tuple, ids: np.ndarray, rows: np.ndarray) -> str:
    """The cache key of a table's layout: a hash of the algorithm, the names and their embedding rows."""
    h = hashlib.sha256(f"{ALGORITHM}\n{kind}\n".encode())
    h.update("\n".join(names).encode())
    h.update(np.ascontiguousarray(ids, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(rows, dtype=np.float32).tobytes())
    return h.hexdigest()[:32]


def layout(kind: str, table: dict, weights: np.ndarray, cache: Optional[Path] = None) -> LabelLayout:
    """The 2-D layout of the rows of ``weights`` (n_rows, width) that ``table`` (name -> id) names; read from the
    cache when this table and these rows were laid out before, else computed and written there.

    A cache that cannot be written only costs the next open the same computation.
    """
    names, ids = named_rows(table, len(weights))
    rows = np.asarray(weights, dtype=np.float32)[ids]
    path = (cache or cache_dir()) / f"{kind}-{table_key(kind, names, ids, rows)}.json"
    try:
        return LabelLayout.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not cached yet, or a damaged file: compute it again
    xy = landmark_tsne(rows).astype(np.float32)
    found = LabelLayout(kind, names, ids, xy[:, 0].copy(), xy[:, 1].copy())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(found.to_json()), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return found


def model_layouts(prior, cache: Optional[Path] = None) -> tuple[LabelLayout, LabelLayout]:
    """(artists, genres) of a prior with label tables (its ``labeller``) and label embeddings (``y_emb``).

    Raises:
        LabelTablesNotFound: the prior has no artist/genre tables.
        ValueError: the prior is not conditioned on artist and genre.
    """
    if getattr(prior, "y_emb", None) is None:
        raise ValueError("this model is not conditioned on artist and genre, so it has no artist or genre map")
    labeller = prior.labeller
    embedding = prior.y_emb
    artist_rows = embedding.artist_emb.emb.weight.detach().float().cpu().numpy()  # (n_artists, width)
    genre_rows = embedding.bow_genre_emb.emb.weight.detach().float().cpu().numpy()  # (n_genres, width)
    return (layout("artist", labeller.artists, artist_rows, cache),
            layout("genre", labeller.genres, genre_rows, cache))
