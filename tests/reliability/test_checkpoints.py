"""Damaged or malicious model files are refused with one message naming the file, the damaged part and the fix."""

import builtins
import json
import os
import shlex
import struct
import subprocess
import sys
import zipfile

import pytest
import torch
from safetensors.torch import save_file

from studio.engine import CheckpointError, build, load_checkpoint, save_model
from studio.engine.checkpoints import read_official_container
from studio.engine.configs import VQVAEConfig

FIX = "studio models verify"


def _zip_copy(fixtures_dir, tmp_path):
    """The VQ-VAE fixture (a legacy torch file) saved again in torch's zip format, as newer official files are."""
    path = tmp_path / "vqvae.pth.tar"
    torch.save(read_official_container(fixtures_dir / "vqvae" / "checkpoint.pth.tar"), path)
    assert zipfile.is_zipfile(path)
    return path


def _data_span(path, name):
    """(start, size) of a zip entry's bytes in the file, read off its local header."""
    info = zipfile.ZipFile(path).getinfo(name)
    with open(path, "rb") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", f.read(4))
    return info.header_offset + 30 + name_len + extra_len, info.file_size


def _flip(path, offset):
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x40
    path.write_bytes(bytes(data))


def _patch_directory(path, name, **fields):
    """Rewrite fields of one entry's central-directory record (a hand-made malicious zip)."""
    at = {"crc": (16, "<I"), "compress_size": (20, "<I"), "file_size": (24, "<I"), "header_offset": (42, "<I")}
    data = bytearray(path.read_bytes())
    record = data.index(name.encode(), data.index(b"PK\x01\x02")) - 46
    assert data[record:record + 4] == b"PK\x01\x02" and struct.unpack_from("<H", data, record + 28)[0] == len(name)
    for field, value in fields.items():
        offset, fmt = at[field]
        struct.pack_into(fmt, data, record + offset, value)
    path.write_bytes(bytes(data))


def _assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        torch.testing.assert_close(sa[k], sb[k], rtol=0, atol=0)


# --- zip torch checkpoints: CRC-32 of every entry -------------------------------------------------------------


def test_good_zip_checkpoint_loads_the_same_weights(fixtures_dir, tmp_path):
    legacy = load_checkpoint(fixtures_dir / "vqvae" / "checkpoint.pth.tar")
    _assert_same_weights(load_checkpoint(_zip_copy(fixtures_dir, tmp_path)), legacy)


def test_flipped_byte_in_a_weight_is_refused_naming_the_entry(fixtures_dir, tmp_path):
    path = _zip_copy(fixtures_dir, tmp_path)
    weights = [i for i in zipfile.ZipFile(path).infolist() if "/data/" in i.filename]
    biggest = max(weights, key=lambda i: i.file_size).filename
    start, size = _data_span(path, biggest)
    _flip(path, start + size // 2)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    msg = str(err.value)
    assert str(path) in msg and repr(biggest) in msg and "CRC" in msg and FIX in msg


@pytest.mark.parametrize("name", ["../../escaped", "archive/../../escaped", "/etc/escaped"])
def test_zip_entry_outside_the_archive_is_refused(fixtures_dir, tmp_path, name):
    path = _zip_copy(fixtures_dir, tmp_path)
    with zipfile.ZipFile(path, "a") as zf:
        zf.writestr(zipfile.ZipInfo(name), b"payload")
    with pytest.raises(CheckpointError, match="points outside the archive") as err:
        load_checkpoint(path)
    assert repr(name) in str(err.value)


def test_zip_entry_declaring_a_huge_size_is_refused(fixtures_dir, tmp_path):
    path = _zip_copy(fixtures_dir, tmp_path)
    name = next(i.filename for i in zipfile.ZipFile(path).infolist() if "/data/" in i.filename)
    _patch_directory(path, name, file_size=0xFFFF_FFF0)
    with pytest.raises(CheckpointError, match=f"{name!r} declares 4294967280 bytes in a"):
        load_checkpoint(path)


def test_zip_entries_sharing_the_same_bytes_are_refused(tmp_path):
    # the overlapping-entry zip bomb: many directory records pointing at one large entry
    path = tmp_path / "bomb.pth.tar"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data/0", bytes(4000))
        zf.writestr("archive/data/1", b"x")
        zf.writestr("archive/data/2", b"y")
    big = zipfile.ZipFile(path).getinfo("archive/data/0")
    for name in ("archive/data/1", "archive/data/2"):
        _patch_directory(path, name, header_offset=0, compress_size=4000, file_size=4000, crc=big.CRC)
    with pytest.raises(CheckpointError, match="entries overlap"):
        load_checkpoint(path)


def test_truncated_zip_is_refused(fixtures_dir, tmp_path):
    path = _zip_copy(fixtures_dir, tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size * 2 // 3])
    with pytest.raises(CheckpointError, match="truncated or damaged: its zip directory is unreadable") as err:
        load_checkpoint(path)
    assert FIX in str(err.value)


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "prior_level_2.pth.tar"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"the file is empty \(0 bytes\)"):
        load_checkpoint(path)


@pytest.mark.parametrize("content", [b"<html>404 Not Found</html>", b"\x89PNG\r\n\x1a\n" + bytes(64)])
def test_file_that_is_no_checkpoint_is_refused(tmp_path, content):
    path = tmp_path / "vqvae.pth.tar"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="not a model file: it is neither a torch checkpoint"):
        load_checkpoint(path)


# --- malicious pickles ---------------------------------------------------------------------------------------


class _Payload:
    """Pickles as a call to ``call(*args)``, made when the file is unpickled."""

    def __init__(self, call, args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


def _marker_payloads(marker):
    code = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system": (os.system, (f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}",)),
        "builtins.eval": (builtins.eval, (code,)),
        "builtins.exec": (builtins.exec, (code,)),
        "subprocess.run": (subprocess.run, ([sys.executable, "-c", code],)),
    }


@pytest.mark.parametrize("zip_format", [True, False])
@pytest.mark.parametrize("call", ["os.system", "builtins.eval", "builtins.exec", "subprocess.run"])
def test_pickle_calling_code_is_refused_before_it_runs(tmp_path, call, zip_format):
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pth.tar"
    torch.save({"hps": {}, "model": {"w": torch.zeros(2)}, "payload": _Payload(*_marker_payloads(marker)[call])},
               path, _use_new_zipfile_serialization=zip_format)
    with pytest.raises(CheckpointError, match="refused to load: its pickle calls") as err:
        load_checkpoint(path)
    assert str(path) in str(err.value) and "nothing was run" in str(err.value)
    assert not marker.exists()
    # the same file through an unrestricted unpickler does run the payload: the refusal above is what stopped it
    torch.load(path, weights_only=False)
    assert marker.exists()


# --- the project's safetensors + JSON ------------------------------------------------------------------------


def _saved_vqvae(tmp_path):
    model = build(VQVAEConfig(width=8, depth=1, emb_width=8, l_bins=16))
    return model, save_model(model, tmp_path / "vq")


def _tensor_start(path, name):
    n = struct.unpack("<Q", path.read_bytes()[:8])[0]
    header = json.loads(path.read_bytes()[8:8 + n])
    return 8 + n + header[name]["data_offsets"][0], header


def test_good_safetensors_load_the_same_weights(tmp_path):
    model, path = _saved_vqvae(tmp_path)
    assert set(json.loads(path.with_suffix(".json").read_text())["sha256"]) == {"header", "tensors"}
    _assert_same_weights(load_checkpoint(path), model)


def test_flipped_byte_in_a_tensor_is_refused_naming_it(tmp_path):
    _, path = _saved_vqvae(tmp_path)
    name = "bottleneck.level_blocks.0.k"
    start, _ = _tensor_start(path, name)
    _flip(path, start + 3)
    with pytest.raises(CheckpointError, match=f"tensor {name!r} differs from the one vq.json records") as err:
        load_checkpoint(path)
    assert str(path) in str(err.value) and FIX in str(err.value)


def test_flipped_byte_in_the_header_is_refused(tmp_path):
    _, path = _saved_vqvae(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"kind":"vqvae"', b'"kind":"vqvaf"', 1))
    assert path.read_bytes() != data
    with pytest.raises(CheckpointError, match="its header differs from the one vq.json records"):
        load_checkpoint(path)


def test_files_saved_before_checksums_still_load(tmp_path):
    model, path = _saved_vqvae(tmp_path)
    sidecar = path.with_suffix(".json")
    meta = json.loads(sidecar.read_text())
    del meta["sha256"]
    sidecar.write_text(json.dumps(meta))
    _assert_same_weights(load_checkpoint(path), model)


def test_tensor_past_the_end_of_the_file_is_refused(tmp_path):
    _, path = _saved_vqvae(tmp_path)
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(CheckpointError, match="lies past the end of the file"):
        load_checkpoint(path)


def _hand_written_safetensors(path, header, payload):
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + payload)


def test_overlapping_tensors_are_refused(tmp_path):
    _, path = _saved_vqvae(tmp_path)
    _, header = _tensor_start(path, "bottleneck.level_blocks.0.k")
    names = [k for k in header if k != "__metadata__"]
    first, second = sorted(names, key=lambda k: header[k]["data_offsets"][0])[:2]
    lo, hi = header[second]["data_offsets"]
    header[second]["data_offsets"] = [header[first]["data_offsets"][0], header[first]["data_offsets"][0] + hi - lo]
    body = path.read_bytes()[8 + struct.unpack("<Q", path.read_bytes()[:8])[0]:]
    _hand_written_safetensors(path, header, body)
    with pytest.raises(CheckpointError, match="tensors .* overlap in the file"):
        load_checkpoint(path)


def test_header_entry_not_matching_its_shape_is_refused(tmp_path):
    path = tmp_path / "vq.safetensors"
    save_file({"w": torch.zeros(4)}, str(path))
    _hand_written_safetensors(path, {"w": {"dtype": "F32", "shape": [5], "data_offsets": [0, 16]}}, bytes(16))
    path.with_suffix(".json").write_text(json.dumps({"kind": "vqvae", "config": {}}))
    with pytest.raises(CheckpointError, match="tensor 'w' has an invalid header entry"):
        load_checkpoint(path)


def test_sidecar_that_is_no_model_config_is_refused(tmp_path):
    _, path = _saved_vqvae(tmp_path)
    path.with_suffix(".json").write_text(json.dumps(["not", "a", "config"]))
    with pytest.raises(CheckpointError, match="vq.json: not the config of a model"):
        load_checkpoint(path)
