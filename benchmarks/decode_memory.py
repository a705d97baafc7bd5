"""Peak memory and time of decoding level-0 codes with the official-size VQ-VAE (random weights), chunked or one-pass.

Each measurement runs in a fresh process, so memory freed by one run cannot hide the next one's peak, and prints one
JSON line: the mode, seconds of audio, candidates, the peak resident memory above the loaded model (VmHWM, reset
through /proc/self/clear_refs; Linux only) and, on CUDA, the peak memory torch allocated above the model; ``out_mib``
is the decoded audio itself, which both modes hold at the end. The children run with glibc's mmap threshold fixed
at 4 MiB, so that large tensors are returned to the system when freed and the resident peak is the decode's working
set; ``--adaptive-malloc`` keeps glibc's default, whose heap keeps freed chunk buffers (on CPU a 60 s chunked decode
then peaks about 300 MiB higher than with the fixed threshold, and longer songs little more).

    python benchmarks/decode_memory.py                      # chunked at 30, 60 and 240 s, one candidate
    python benchmarks/decode_memory.py --seconds 30 60 --candidates 3
    python benchmarks/decode_memory.py --one-pass           # and the one-pass decode at 30 s (240 s needs ~11 GiB)
    python benchmarks/decode_memory.py --device cuda --one-pass 30 60
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.engine import official_model  # noqa: E402
from studio.engine.chunked_decode import decode_in_chunks, plan_chunks  # noqa: E402

LEVEL = 0  # why: the bottom level's decoder is the widest and deepest (47 MiB per second of audio in one pass)
MIB = 2**20
MMAP_THRESHOLD = 4 * MIB  # why: above it glibc maps each allocation on its own and unmaps it when freed


def proc_kib(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure(mode: str, seconds: float, candidates: int, device: torch.device) -> dict:
    """Decode ``seconds`` of random level-0 codes for ``candidates`` in this process; peaks above the loaded model."""
    torch.manual_seed(0)
    vq = official_model("5b", "vqvae", device="cpu").eval().to(device)
    for book in vq.bottleneck.level_blocks:
        book.k.normal_()  # a built codebook is all zeros
    hop = vq.hop_lengths[LEVEL]
    length = int(seconds * vq.sr) // hop
    codes = torch.randint(0, vq.cfg.l_bins, (candidates, length), device=device)  # (N, T_0)
    plan = plan_chunks(vq.cfg, LEVEL)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # VmHWM := VmRSS
    base_kib = proc_kib("VmRSS")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    base_cuda = torch.cuda.memory_allocated(device) if device.type == "cuda" else 0
    start = time.perf_counter()
    if mode == "chunked":
        audio = decode_in_chunks(vq, codes, LEVEL)
    else:
        with torch.no_grad():
            audio = vq.decode([codes], start_level=LEVEL).cpu().numpy()
    wall = time.perf_counter() - start
    row = dict(mode=mode, seconds=seconds, candidates=candidates, device=str(device), codes=length,
               chunk_codes=plan.chunk_codes if mode == "chunked" else length,
               chunks=len(list(plan.spans(length))) if mode == "chunked" else 1,
               peak_rss_mib=round((proc_kib("VmHWM") - base_kib) / 1024, 1), out_mib=round(audio.nbytes / MIB, 1),
               wall_s=round(wall, 2), malloc_mmap_threshold=os.environ.get("MALLOC_MMAP_THRESHOLD_", "adaptive"))
    if device.type == "cuda":
        row["peak_cuda_mib"] = round((torch.cuda.max_memory_allocated(device) - base_cuda) / MIB, 1)
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, nargs="+", default=[30, 60, 240], help="song lengths, chunked")
    ap.add_argument("--candidates", type=int, default=1, help="candidates decoded (3 as a cascade renders them)")
    ap.add_argument("--one-pass", type=float, nargs="*", metavar="SECONDS",
                    help="also decode in one pass at these lengths (30 s when given without any)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--adaptive-malloc", action="store_true", help="keep glibc's adaptive mmap threshold")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "SECONDS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], float(args.child[1]), args.candidates, torch.device(args.device))))
        return 0
    runs = [("chunked", s) for s in args.seconds]
    if args.one_pass is not None:
        runs += [("one-pass", s) for s in (args.one_pass or [30])]
    env = dict(os.environ)
    if not args.adaptive_malloc:
        env["MALLOC_MMAP_THRESHOLD_"] = str(MMAP_THRESHOLD)
    failed = 0
    for mode, seconds in runs:
        child = subprocess.run([sys.executable, __file__, "--child", mode, str(seconds),
                                "--candidates", str(args.candidates), "--device", args.device],
                               capture_output=True, text=True, env=env)
        if child.returncode:
            failed += 1
            tail = (child.stderr.strip().splitlines() or ["killed"])[-1]
            print(json.dumps(dict(mode=mode, seconds=seconds, candidates=args.candidates, error=tail)))
        else:
            print(child.stdout.strip(), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
