"""Assemble models/demo from training run folders and write its manifest.json (sizes and sha256 of every file).

    python tools/package_demo.py --vqvae RUN_VQ --priors RUN_P0 RUN_P1 RUN_P2 [--dest models/demo]
    python tools/package_demo.py --replace LEVEL RUN [--dest models/demo]
    python tools/package_demo.py --manifest-only [--dest models/demo]

Each run folder is what ``studio train`` writes (``RUN/model/...``). The priors' ``ids`` tables must agree (they are
built from the same data); the top prior's are copied. ``--replace`` puts one prior of a run into the folder (a
prior trained further on more data): the run's tables must extend the folder's, every name keeping its id.
"""

from __future__ import annotations

import argparse
import filecmp
import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LICENCE = ("Weights: CC-BY-SA-4.0 (trained on CC-BY-SA / GPL / public-domain material, see MODEL_CARD.md); "
           "code: the project's licence")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(dest: Path, sr: int) -> dict:
    files = sorted(p for p in dest.rglob("*") if p.is_file() and p.name != "manifest.json")
    manifest = {"name": "demo", "sr": sr, "licence": LICENCE,
                "files": [{"path": str(p.relative_to(dest)), "size": p.stat().st_size, "sha256": sha256(p)}
                          for p in files]}
    manifest["total_bytes"] = sum(f["size"] for f in manifest["files"])
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def extends(old: Path, new: Path) -> bool:
    """Whether the table ``new`` holds every line of ``old``, in order, at its start (names keep their ids)."""
    before, after = old.read_text().splitlines(), new.read_text().splitlines()
    return after[:len(before)] == before


def replace_prior(dest: Path, level: int, run: Path) -> int:
    ids = run / "model" / "ids"
    for name in ("v2_artist_ids.txt", "v2_genre_ids.txt"):
        if not extends(dest / "ids" / name, ids / name):
            print(f"{ids / name} does not extend {dest / 'ids' / name}: a name would change its id for the other "
                  f"priors; train from the folder's tables (studio train --init {dest})", file=sys.stderr)
            return 2
    for suffix in (".safetensors", ".json"):
        shutil.copy(run / "model" / f"prior_level_{level}{suffix}", dest / f"prior_level_{level}{suffix}")
    shutil.copytree(ids, dest / "ids", dirs_exist_ok=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vqvae", help="VQ-VAE run folder")
    ap.add_argument("--priors", nargs=3, metavar=("L0", "L1", "L2"), help="prior run folders, levels 0 1 2")
    ap.add_argument("--dest", default=str(ROOT / "models" / "demo"))
    ap.add_argument("--replace", nargs=2, metavar=("LEVEL", "RUN"),
                    help="put one prior of a run into DEST (its tables extend DEST's)")
    ap.add_argument("--manifest-only", action="store_true")
    args = ap.parse_args(argv)
    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    if args.replace:
        if replace_prior(dest, int(args.replace[0]), Path(args.replace[1])):
            return 2
    elif not args.manifest_only:
        if not args.vqvae or not args.priors:
            ap.error("give --vqvae and --priors (or --manifest-only)")
        for suffix in (".safetensors", ".json"):
            shutil.copy(Path(args.vqvae) / "model" / f"vqvae{suffix}", dest / f"vqvae{suffix}")
            for lv, run in enumerate(args.priors):
                shutil.copy(Path(run) / "model" / f"prior_level_{lv}{suffix}", dest / f"prior_level_{lv}{suffix}")
        top_ids = Path(args.priors[2]) / "model" / "ids"
        for run in args.priors[:2]:
            for name in ("v2_artist_ids.txt", "v2_genre_ids.txt"):
                if not filecmp.cmp(top_ids / name, Path(run) / "model" / "ids" / name, shallow=False):
                    print(f"the label tables of {run} differ from the top prior's; train all priors on the same data",
                          file=sys.stderr)
                    return 2
        shutil.copytree(top_ids, dest / "ids", dirs_exist_ok=True)
    sr = json.loads((dest / "vqvae.json").read_text())["config"]["sr"]
    m = write_manifest(dest, sr)
    print(json.dumps({"files": len(m["files"]), "total_mb": round(m["total_bytes"] / 1e6, 2)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
