"""Fuzzed song specs: each one validates to in-range values or fails with one SpecError naming its key; the CLI
turns a bad spec into one line on stderr and exit code 2, leaving no take folder behind."""

import json
import math
import random
import subprocess
import sys
import wave
from pathlib import Path

import pytest

from studio.engine import spec as S
from studio.engine.spec import SongSpec, SpecError, validate_for_model

REPO = Path(__file__).resolve().parents[2]
BASE = {"seconds": 20.0, "model": "demo", "artist": "Alan Jackson", "genre": "Country", "lyrics": "la la la",
        "candidates": 2, "levels": "top", "temperature": [0.99, 0.99, 0.98], "top_k": 0, "top_p": 0.0, "seed": 7,
        "hop_fraction": [0.5, 0.5, 0.125], "max_batch": [16, 16, 16], "song_seconds": 60.0,
        "prime": {"file": "clip.wav", "start": 0.5, "end": 2.0}, "device": "cpu", "precision": "fp32",
        "chunk_size": 512}
# a key whose check compares against another: a bad 'seconds' may be reported on the keys measured against it
MEASURED_AGAINST = {"seconds": {"song_seconds", "prime"}, "top_k": {"top_p"}, "top_p": {"top_k"}}


def nested(depth: int):
    """A list nested ``depth`` deep, built without recursion."""
    v: list = []
    for _ in range(depth):
        v = [v]
    return v


def wild_values(rng: random.Random) -> list:
    return [None, True, False, 0, 1, -1, 3, 2**64, -(2**70), 1e9, 1e-9, -1e-9, 0.5, 1.5, 2.0, 64, 65, 1e308,
            math.nan, math.inf, -math.inf, "", "hot", "tpu", "cuda", "all", "x" * 1_000_000, "a\0b", [], [1],
            [1, 2], [0.5, 0.5, 1e-9], [0.5, 0.5, 0.5], [1, 1, 1], [True, 1, 1], [math.nan] * 3, ["1", "2", "3"],
            {"start": 1}, {"file": None}, {"file": "c.wav", "start": -1}, {"file": "c.wav", "end": 0.1, "start": 1},
            {"file": "c.wav", "colour": 1}, {}, nested(rng.choice([3, 50, 5000])), {"a": {"b": {"c": []}}},
            rng.uniform(-1e6, 1e6), rng.randint(-10, 100), [rng.uniform(-1, 3) for _ in range(3)]]


def mutate(rng: random.Random) -> tuple:
    """(a mutated spec, the keys it touched); a spec may also be replaced outright by a non-table."""
    if rng.random() < 0.04:
        return rng.choice([None, [], [BASE], "seconds = 3", 42, nested(2000)]), {"<table>"}
    d = json.loads(json.dumps(BASE))
    touched = set()
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        op = rng.random()
        key = rng.choice(sorted(BASE))
        if op < 0.7:
            d[key] = rng.choice(wild_values(rng))
        elif op < 0.8 and isinstance(d.get("prime"), dict):
            key = "prime"
            d["prime"][rng.choice(["file", "start", "end", "other"])] = rng.choice(wild_values(rng))
        elif op < 0.9:
            d.pop(key, None)
        else:
            key = rng.choice(["colour", "Seconds", "tempo", "prime_file"])
            d[key] = 1
        touched.add(key)
    return d, touched


def assert_in_documented_ranges(spec: SongSpec) -> None:
    assert 0 < spec.seconds <= S.MAX_SECONDS
    assert isinstance(spec.model, str) and spec.model.strip() and "\0" not in spec.model
    for text, limit in ((spec.artist, S.MAX_NAME_CHARS), (spec.genre, S.MAX_NAME_CHARS),
                        (spec.lyrics, S.MAX_LYRICS_CHARS)):
        assert isinstance(text, str) and len(text) <= limit
    assert type(spec.candidates) is int and 1 <= spec.candidates <= S.MAX_CANDIDATES
    assert spec.levels in S.LEVELS and spec.device in S.DEVICES and spec.precision in S.PRECISIONS
    # None: the model's own sampling defaults (studio/engine/sampling_defaults.py)
    assert spec.temperature is None or len(spec.temperature) == 3 and all(
        type(t) is float and 0 < t <= S.MAX_TEMPERATURE for t in spec.temperature)
    assert spec.top_k is None or type(spec.top_k) is int and 0 <= spec.top_k <= S.MAX_TOP_K
    assert spec.top_p is None or 0 <= spec.top_p < 1
    assert not (spec.top_k and spec.top_p)
    assert type(spec.seed) is int and 0 <= spec.seed <= S.MAX_SEED
    assert len(spec.hop_fraction) == 3 and all(S.MIN_HOP_FRACTION <= h <= 1 for h in spec.hop_fraction)
    assert len(spec.max_batch) == 3 and all(type(b) is int and 1 <= b <= S.MAX_CANDIDATES for b in spec.max_batch)
    assert spec.song_seconds is None or spec.seconds <= spec.song_seconds <= S.MAX_SECONDS
    assert spec.chunk_size is None or type(spec.chunk_size) is int and 1 <= spec.chunk_size <= S.MAX_CHUNK
    if spec.prime is not None:
        p = spec.prime
        assert isinstance(p.file, str) and p.file and 0 <= p.start <= S.MAX_SECONDS
        assert p.end is None or p.start < p.end <= S.MAX_SECONDS and p.end - p.start < spec.seconds
    assert SongSpec.from_dict(spec.to_dict()) == spec  # what a take stores reads back as the same spec


def test_three_hundred_mutated_specs_validate_or_name_their_key():
    rng = random.Random(12)
    outcomes = {"valid": 0, "invalid": 0}
    for _ in range(360):
        d, touched = mutate(rng)
        try:
            spec = SongSpec.from_dict(d)
        except SpecError as exc:
            msg = str(exc)
            outcomes["invalid"] += 1
            assert "\n" not in msg and len(msg) < 600, msg
            if touched == {"<table>"}:
                assert "table of keys" in msg
            else:
                named = touched | {k for t in touched for k in MEASURED_AGAINST.get(t, ())}
                assert any(f"'{k}" in msg or f"keys: {k}" in msg or f", {k}." in msg for k in named), (touched, msg)
        else:
            outcomes["valid"] += 1
            assert_in_documented_ranges(spec)
    assert outcomes["valid"] >= 30 and outcomes["invalid"] >= 200, outcomes


@pytest.mark.parametrize("field, value, allowed", [
    ("temperature", "hot", "each in (0, 2]"), ("seed", [1], "a whole number"), ("model", 3, "a model name"),
    ("artist", 5, "text of at most"), ("top_k", 1e9, "a whole number from 0"), ("max_batch", [1], "three whole"),
    ("device", "tpu", '"auto" or "cpu" or "cuda"'), ("precision", "fp16", '"auto" or "fp32" or "bf16" or "int8"'),
    ("hop_fraction", [0.5, 0.5, 1e-9], "each in [0.0625, 1]"),
    ("candidates", True, "a whole number from 1 to 64"), ("seconds", math.nan, "a positive number"),
    ("prime", {"start": 1}, "a table naming the priming audio 'file'"), ("prime", [1], "a table with 'file'"),
])
def test_message_names_the_key_the_value_and_what_is_allowed(field, value, allowed):
    with pytest.raises(SpecError) as err:
        SongSpec.from_dict({**BASE, field: value})
    msg = str(err.value)
    assert msg.startswith(f"'{field}' must be") and allowed in msg and repr(value)[:20] in msg


def test_precision_round_trips_through_a_take_and_old_specs_load_as_auto(tmp_path):
    from studio.engine.takes import Take, TakePlan

    spec = SongSpec.from_dict({**BASE, "prime": None, "precision": "bf16"})
    take = Take.create(tmp_path / "t", spec, TakePlan(candidates=[0]), "tiny", 44100, [8, 32, 128])
    assert json.loads((take.path / "take.json").read_text())["spec"]["precision"] == "bf16"
    assert Take.load(take.path).spec == spec
    old = {k: v for k, v in BASE.items() if k not in ("prime", "precision")}  # a spec from before the field
    (tmp_path / "old.json").write_text(json.dumps(old))
    assert SongSpec.from_file(tmp_path / "old.json").precision == "auto"
    record = json.loads((take.path / "take.json").read_text())
    del record["spec"]["precision"]
    (take.path / "take.json").write_text(json.dumps(record))
    assert Take.load(take.path).spec.precision == "auto"


def test_one_temperature_stands_for_all_three_levels():
    assert SongSpec.from_dict({**BASE, "temperature": 1.2}).temperature == [1.2, 1.2, 1.2]


@pytest.mark.parametrize("name, text", [
    ("null.json", "null"), ("list.json", "[1, 2]"), ("deep.json", "[" * 100_000 + "]" * 100_000),
    ("deep.toml", "a = " + "[" * 100_000 + "]" * 100_000), ("latin1.json", b'{"seconds": 3, "artist": "\xe9"}'),
    ("bad.toml", "seconds = = 3"), ("folder.json", None),
])
def test_unusable_spec_files_give_one_message(tmp_path, name, text):
    path = tmp_path / name
    if text is None:
        path.mkdir()
    elif isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(SpecError) as err:
        SongSpec.from_file(path)
    assert str(err.value).startswith(str(path)) or "table of keys" in str(err.value)


def write_clip(path: Path, seconds: float, sr: int = 44100) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(b"\0\0" * int(seconds * sr))
    return path


def test_what_only_the_model_knows_is_checked_before_any_folder(tiny_models, tmp_path):
    ok = SongSpec(seconds=0.37, song_seconds=90.0, seed=1, prime={"file": str(write_clip(tmp_path / "c.wav", 1.0)),
                                                                    "end": 0.2})
    validate_for_model(ok, tiny_models)
    cfg = tiny_models.prior(2).cfg
    bins = min(tiny_models.prior(lv).cfg.bins for lv in range(3))
    cases = [({"song_seconds": cfg.max_duration + 1}, "longer than this model can place"),
             ({"seconds": 1 / 44100, "prime": None}, "'seconds' must be at least one top-level token"),
             ({"top_k": bins + 1}, f"'top_k' must be a whole number from 0 (off) to {bins}"),
             ({"chunk_size": 65536}, "'chunk_size' must be a whole number of tokens from 1 to"),
             ({"prime": {"file": str(tmp_path / "missing.wav")}}, "'prime.file': Audio file not found"),
             ({"prime": {"file": ok.prime.file, "start": 5.0}}, "'prime.start' must be before the file's end"),
             ({"prime": {"file": ok.prime.file}}, "'prime' must be a clip shorter than the song")]
    for change, message in cases:
        spec = SongSpec.from_dict({**ok.to_dict(), **change})
        with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
            validate_for_model(spec, tiny_models)


CLI_BAD_SPECS = [
    ("null.json", "null"), ("deep.json", "[" * 100_000 + "]" * 100_000),
    ("temp.json", json.dumps({"seconds": 3, "temperature": "hot"})),
    ("seed.json", json.dumps({"seconds": 3, "seed": [1]})),
    ("prime.json", json.dumps({"seconds": 3, "prime": {"start": 1}})),
    ("artist.json", json.dumps({"seconds": 3, "artist": 7})),
    ("topk.json", json.dumps({"seconds": 3, "top_k": 1e9})),
    ("batch.json", json.dumps({"seconds": 3, "max_batch": [1]})),
    ("device.toml", 'seconds = 3\ndevice = "tpu"\n'),
    ("precision.toml", 'seconds = 3\nprecision = "fp16"\n'),
    ("hop.json", json.dumps({"seconds": 20, "hop_fraction": [0.5, 0.5, 1e-9]})),
    ("inf.json", '{"seconds": 1e999}'),
]


@pytest.mark.parametrize("name, text", CLI_BAD_SPECS, ids=[n for n, _ in CLI_BAD_SPECS])
def test_cli_rejects_a_bad_spec_in_one_line_and_makes_no_folder(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    out = tmp_path / "take"
    proc = subprocess.run([sys.executable, "-m", "studio.cli", "render", str(tmp_path / name), "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in proc.stderr, proc.stderr
    assert not out.exists()
