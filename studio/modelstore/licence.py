"""The licence of the official Jukebox code and weights, shown to the user before any download.

This is a faithful summary, not the licence itself; the full text is the upstream ``LICENSE`` file at
:data:`LICENCE_URL`, which the summary points to.
"""

from __future__ import annotations

LICENCE_NAME = "OpenAI Jukebox Noncommercial Use License"
LICENCE_URL = "https://github.com/openai/jukebox/blob/master/LICENSE"
# Bumped if the summary (or the upstream licence) changes, so an old acceptance no longer counts.
LICENCE_VERSION = "2020-openai-jukebox-noncommercial"

LICENCE_TEXT = f"""\
{LICENCE_NAME}, Software Copyright (c) 2020 OpenAI.

The official Jukebox model files (the VQ-VAE, the upsamplers and the 5b, 5b_lyrics and 1b_lyrics
top-level priors) and the artist/genre tables are published by OpenAI under a noncommercial licence.
The upstream README states that the licence covers both the released code and the weights.

In short:
  * You may use, copy, modify, merge, publish, distribute and/or sublicense them,
  * but no portion of them, nor any content created with them, may be used for commercial purposes;
  * the copyright and permission notice must be included in all copies or substantial portions;
  * content made with Jukebox should be clearly indicated as created with OpenAI's Jukebox.

Jukebox Studio never bundles these files: it downloads them for you, from OpenAI's public address or a
mirror you choose, into a folder on your machine. This is a summary; the licence itself is the
LICENSE file of https://github.com/openai/jukebox ({LICENCE_URL}). Read it before accepting.
"""


def licence_record(accepted: bool, accepted_at: str | None) -> dict:
    """The ``licence`` entry of a manifest: what was shown and whether (and when) the user accepted it."""
    return {
        "name": LICENCE_NAME,
        "url": LICENCE_URL,
        "version": LICENCE_VERSION,
        "text": LICENCE_TEXT,
        "accepted": bool(accepted),
        "accepted_at": accepted_at if accepted else None,
    }
