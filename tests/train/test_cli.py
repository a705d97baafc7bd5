"""``studio train`` on a musician's folder of plain audio files (labels from sub-folders), tiny configs."""

from __future__ import annotations

import argparse

import numpy as np
import soundfile as sf

from studio.engine.loading import load_checkpoint
from studio.train import cli
from studio.train.data import load_audio_set
from studio.train.state import read_log


def _folder(tmp_path):
    root = tmp_path / "songs"
    rng = np.random.default_rng(0)
    for i, (artist, genre) in enumerate([("Ann", "reel"), ("Ann", "reel"), ("Bob", "air"), ("Bob", "air")]):
        d = root / artist / genre
        d.mkdir(parents=True, exist_ok=True)
        t = np.arange(44100 * 2) / 44100
        x = 0.3 * np.sin(2 * np.pi * (220 + 110 * i) * t) + 0.01 * rng.standard_normal(len(t))
        sf.write(d / f"song{i}.wav", np.stack([x, x], 1), 44100)  # stereo at 44.1 kHz: mixed and resampled
    (root / "loose.flac").parent.mkdir(exist_ok=True)
    sf.write(root / "loose.flac", 0.1 * np.sin(2 * np.pi * 300 * np.arange(22050) / 22050), 22050)
    return root


def _run(argv):
    p = argparse.ArgumentParser()
    cli.add_arguments(p)
    return cli.run(p.parse_args(argv))


def test_folder_labels_and_rate(tmp_path):
    data = load_audio_set(_folder(tmp_path), 8000)
    by_name = {c.name: c for c in data.clips}
    assert by_name["song0"].artist == "Ann" and by_name["song0"].genre == "reel"
    assert by_name["loose"].artist == "unknown" and by_name["loose"].genre == "unknown"
    assert len(by_name["song2"].audio) == 16000  # 2 s resampled to 8 kHz
    assert data.artists() == ["Ann", "Bob"]


def test_cli_trains_vqvae_then_prior_on_a_folder(tmp_path, capsys):
    root = _folder(tmp_path)
    rc = _run(["vqvae", "--data", str(root), "--out", str(tmp_path / "vq"), "--config", "tiny", "--steps", "4",
               "--log-every", "2", "--crop-seconds", "0.25", "--device", "cpu"])
    assert rc == 0
    assert "[vqvae] step 4/4" in capsys.readouterr().out
    vq_file = tmp_path / "vq" / "model" / "vqvae.safetensors"
    assert load_checkpoint(vq_file).cfg.sr == 8000
    rc = _run(["prior", "--level", "1", "--data", str(root), "--vqvae", str(vq_file), "--out", str(tmp_path / "p1"),
               "--config", "tiny", "--steps", "3", "--log-every", "1"])
    assert rc == 0
    assert [r["step"] for r in read_log(tmp_path / "p1")] == [1, 2, 3]
    ids = (tmp_path / "p1" / "model" / "ids" / "v2_artist_ids.txt").read_text().split()
    assert ids == ["unknown;0", "ann;1", "bob;2"]
    assert (tmp_path / "p1" / "codes.pt").is_file()
    # going on from the checkpoint
    rc = _run(["prior", "--level", "1", "--data", str(root), "--vqvae", str(vq_file), "--out", str(tmp_path / "p1"),
               "--config", "tiny", "--steps", "5", "--log-every", "1", "--resume"])
    assert rc == 0
    assert [r["step"] for r in read_log(tmp_path / "p1")] == [1, 2, 3, 4, 5]
    # the decoder of level 1, tuned on that upsampler's draws; written as a whole VQ-VAE
    rc = _run(["decoder", "--level", "1", "--data", str(root), "--vqvae", str(vq_file), "--prior",
               str(tmp_path / "p1" / "model"), "--out", str(tmp_path / "d1"), "--steps", "2", "--log-every", "1"])
    assert rc == 0
    assert "[decoder 1] step 2/2" in capsys.readouterr().out
    assert load_checkpoint(tmp_path / "d1" / "model" / "vqvae.safetensors").cfg == load_checkpoint(vq_file).cfg
    rc = _run(["decoder", "--level", "2", "--data", str(root), "--vqvae", str(vq_file), "--prior",
               str(tmp_path / "p1" / "model"), "--out", str(tmp_path / "d2"), "--steps", "2"])
    assert rc == 2
    assert "level 2 has no upsampler" in capsys.readouterr().err


def test_cli_reports_a_missing_folder(tmp_path, capsys):
    rc = _run(["vqvae", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "o"), "--config", "tiny"])
    assert rc == 2
    assert "no such folder" in capsys.readouterr().err
