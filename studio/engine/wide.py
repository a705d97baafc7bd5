"""A "wide" take: pseudo-stereo from one mono song, as two upsamplings of the same top level.

Jukebox writes mono. A wide take keeps one candidate's top-level codes (the song: melody, words, structure) in both
of its two rows and samples the lower levels (timbre and detail) once per row with a different random stream, so the
rows agree on the song and differ in the fine texture; exported with row 0 left and row 1 right
(:mod:`studio.state.export_job`) they sound wide, as jukebox-webui's pseudo-stereo does.

Random streams (``plan.candidates``, see ``windows.seed_for``): row 0 (left) draws the parent candidate's own stream
``s``, row 1 (right) draws ``s + WIDE_PARTNER_OFFSET``. Every stream a generation or continuation gives a candidate
is below ``MAX_CANDIDATES`` (64), and upsamplings only copy streams, so a partner stream is never a real candidate's;
a wide version of a wide take's right side steps one more offset away, so the chain never meets itself either.

Both rows are sampled afresh; the parent's lower levels are not copied in. The cascade samples a window for all of a
take's rows together, so a copied left side would save no work, and since row 0 draws the stream the parent's own
upsampling of that candidate drew, the left side comes out as that upsampling (token for token on the same device).
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

from .jobs import check_for_model
from .modelset import ModelSet
from .spec import MAX_CANDIDATES, SpecError, song_lengths
from .take_edits import top_level_done
from .takes import Take, TakePlan

WIDE_PARTNER_OFFSET = 1_000_000  # fixed for good: changing it would change every wide take's right side
assert WIDE_PARTNER_OFFSET >= MAX_CANDIDATES, "a partner stream must never be a real candidate's stream"


def partner_stream(stream: int) -> int:
    """The random stream of a wide take's right side, for a left side drawing ``stream``."""
    return int(stream) + WIDE_PARTNER_OFFSET


def wide_take(parent: Take, candidate: int, folder: "str | Path", models: ModelSet) -> Take:
    """A take of kind "wide" in ``folder``: two rows sharing ``parent``'s top-level codes of ``candidate`` (0-based
    row of the parent), their lower levels to be sampled by ``run_take`` with two different random streams.

    Raises:
        SpecError: ``candidate`` is not one of the parent's, or its top level is not finished.
    """
    n_rows = len(parent.plan.candidates)
    if not 0 <= int(candidate) < n_rows:
        raise SpecError(f"take {parent.path.name} has candidates 1-{n_rows}, not {int(candidate) + 1}: choose one of "
                        f"them for the wide version.")
    top = models.levels - 1
    if not parent.has_codes(top) or (parent.codes(top)[candidate] < 0).any():
        raise SpecError(f"the top level of candidate {int(candidate) + 1} of take {parent.path.name} is not finished; "
                        f"resume the take, then make the wide version.")
    spec = copy.deepcopy(parent.spec)
    spec.levels = "all"
    spec.prime = None
    check_for_model(spec, models)
    stream = parent.plan.candidates[candidate]
    plan = TakePlan("wide", list(range(top - 1, -1, -1)), [stream, partner_stream(stream)])
    take = Take.create(folder, spec, plan, models.name, models.sr, models.hop_lengths, parent=parent.record.id)
    take.record.parent_path = str(parent.path)
    take.save()
    n_samples, _ = song_lengths(spec, models)
    take.write_codes(top, np.repeat(parent.codes(top)[candidate:candidate + 1], 2, axis=0))  # (2, T_top)
    for level in range(top):
        take.write_codes(level, -np.ones((2, n_samples // models.hop_lengths[level]), dtype=np.int64))
    top_level_done(take, models)
    return take
