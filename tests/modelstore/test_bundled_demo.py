"""The bundled demo folder matches its own manifest, sizes and sha256 (an edit to the card, sampling.json or
render_eq.json needs `tools/package_demo.py --manifest-only`, or `studio models verify` calls the folder corrupt)."""

from __future__ import annotations

from pathlib import Path

from studio.modelstore import Status, check_folder

DEMO = Path(__file__).resolve().parents[2] / "models" / "demo"


def test_the_bundled_demo_folder_verifies_against_its_manifest():
    check = check_folder(DEMO, deep=True)
    assert [(f.path, f.status) for f in check.problems] == []
    assert check.status is Status.COMPLETE and check.deep
    listed = {f.path for f in check.files}
    assert listed >= {"MODEL_CARD.md", "sampling.json", "render_eq.json", "vqvae.safetensors",
                      "prior_level_2.safetensors"}
    on_disk = {str(p.relative_to(DEMO)) for p in DEMO.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert on_disk == listed  # nothing in the folder escapes the integrity check
