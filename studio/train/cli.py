"""``studio train vqvae|prior|decoder``: train the demo networks, or fine-tune a model on a folder of your own audio.

Examples::

    studio train vqvae --data /work/data/demo --out runs/vqvae --steps 4000
    studio train prior --level 2 --data /work/data/demo --vqvae runs/vqvae/model --out runs/top --steps 3000
    studio train prior --level 2 --data ~/my_songs --init models/demo --out runs/mine --steps 500   # fine-tune
    studio train decoder --level 0 --data /work/data/demo --init models/demo --out runs/dec0 --steps 1500
    studio train prior ... --resume          # go on from the run folder's last checkpoint

``decoder`` fine-tunes one level's VQ-VAE decoder on codes drawn by that level's upsampler (``--prior``, default
the ``--init`` folder), so sampled codes render as clean notes rather than noise; codes and priors stay valid.

``--data`` is a set made by ``studio data build`` or any folder of audio files (labels from sub-folders:
``DIR/<artist>/<genre>/song.wav``; otherwise 'unknown'). The trained model is written to ``OUT/model`` at every
checkpoint; losses go to ``OUT/log.jsonl`` and are printed.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=("vqvae", "prior", "decoder"),
                        help="which network to train (decoder: fine-tune a VQ-VAE decoder on upsampled codes)")
    parser.add_argument("--data", required=True, help="a built set or a folder of audio files")
    parser.add_argument("--out", required=True, help="run folder (checkpoints, log, exported model)")
    parser.add_argument("--level", type=int, default=2, help="prior level: 2 top, 1 and 0 upsamplers (default 2)")
    parser.add_argument("--init", default=None, help="model folder (or file) to fine-tune from, e.g. models/demo")
    parser.add_argument("--vqvae", default=None, help="VQ-VAE that makes the prior's codes (file or folder; "
                                                      "default: the --init folder's)")
    parser.add_argument("--config", choices=("demo", "tiny"), default="demo",
                        help="network sizes when not fine-tuning (default demo)")
    parser.add_argument("--steps", type=int, default=2000, help="train up to this step (default 2000)")
    parser.add_argument("--batch", type=int, default=None, help="batch size (default 4 vqvae, 8 prior)")
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (default 6e-4 / 3e-4 fine-tuning)")
    parser.add_argument("--warmup", type=int, default=100, help="warm-up steps (default 100)")
    parser.add_argument("--crop-seconds", type=float, default=1.0, help="VQ-VAE training crop (default 1.0 s)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from OUT's last checkpoint")
    parser.add_argument("--log-every", type=int, default=10)
    parser.add_argument("--ckpt-every", type=int, default=200, help="checkpoint every N steps (and every 5 min)")
    parser.add_argument("--max-minutes", type=float, default=None, help="stop with a checkpoint after this long")
    parser.add_argument("--max-hours", type=float, default=None, help="use at most this much training audio")
    parser.add_argument("--codes", default=None, help="code cache file (default OUT/codes.pt; share it between "
                                                      "the three priors)")
    parser.add_argument("--prior", default=None, help="decoder: the upsampler whose codes it learns to render "
                                                      "(file or folder; default: the --init folder's)")
    parser.add_argument("--sampled-fraction", type=float, default=0.75,
                        help="decoder: share of crops rendered from upsampler draws rather than exact codes")
    parser.add_argument("--temperature", type=float, default=0.99, help="decoder: temperature of those draws")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")


def _printer(what: str):
    keys = ("loss", "gen_bits", "lyric_bits", "l2", "spec", "l2_0", "spec_0", "l2_2", "used_2", "restarts_2", "lr")

    def progress(step: int, total: int, rec: dict) -> None:
        vals = "  ".join(f"{k} {rec[k]:.4g}" for k in keys if k in rec)
        print(f"[{what}] step {step}/{total}  {rec.get('time', 0):7.0f}s  {vals}", flush=True)

    return progress


def _vqvae_path(args) -> Path:
    from .state import model_file

    src = args.vqvae or args.init
    if src is None:
        raise SystemExit(f"studio train {args.what}: say which VQ-VAE makes the codes: --vqvae FILE_OR_FOLDER, or "
                         f"--init a model folder.")
    return model_file(src, "vqvae")


def run(args: argparse.Namespace) -> int:
    import torch

    from studio.engine.checkpoints import CheckpointError
    from studio.engine.demo_config import demo_config, tiny_prior, tiny_vqvae
    from studio.engine.loading import load_checkpoint

    from .codes import cached_codes
    from .data import TrainDataError, load_audio_set
    from .decoder_trainer import train_decoder
    from .prior_trainer import train_prior
    from .state import RunOptions, TrainError, model_file, pick_device
    from .vqvae_trainer import train_vqvae

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    is_vq = args.what == "vqvae"
    opts = RunOptions(out=out, steps=args.steps, batch=args.batch or (8 if args.what == "prior" else 4),
                      lr=args.lr or (3e-4 if args.init else 6e-4), warmup=args.warmup, device=args.device,
                      seed=args.seed, log_every=args.log_every, ckpt_every=args.ckpt_every, resume=args.resume,
                      max_seconds=args.max_minutes * 60 if args.max_minutes else None)
    try:
        if is_vq:
            cfg = None if args.init else (demo_config("vqvae") if args.config == "demo" else tiny_vqvae())
            sr = cfg.sr if cfg else load_checkpoint(model_file(args.init, "vqvae")).cfg.sr
            print(f"loading audio from {args.data} at {sr} Hz ...", flush=True)
            data = load_audio_set(args.data, sr, args.max_hours)
            print(f"{len(data.clips)} clips, {data.seconds / 3600:.2f} h", flush=True)
            path = train_vqvae(data, cfg, opts, args.init, args.crop_seconds, progress=_printer("vqvae"))
        elif args.what == "decoder":
            prior_src = args.prior or args.init
            if prior_src is None:
                raise SystemExit("studio train decoder: say which upsampler's draws to learn: --prior FILE_OR_FOLDER, "
                                 "or --init a model folder.")
            vq_file = _vqvae_path(args)
            sr = load_checkpoint(vq_file).cfg.sr
            print(f"loading audio from {args.data} at {sr} Hz ...", flush=True)
            data = load_audio_set(args.data, sr, args.max_hours).split("train")
            path = train_decoder(data, vq_file, prior_src, args.level, opts, args.sampled_fraction, args.temperature,
                                 progress=_printer(f"decoder {args.level}"))
        else:
            vq = load_checkpoint(_vqvae_path(args))
            cache = Path(args.codes) if args.codes else out / "codes.pt"
            codes = cached_codes(vq, lambda: load_audio_set(args.data, vq.sr, args.max_hours), cache,
                                 pick_device(args.device),
                                 progress=lambda i, n: print(f"encoding {i}/{n}", flush=True) if i % 20 == 0 else None)
            cfg = None
            if not args.init:
                cfg = demo_config(args.level) if args.config == "demo" else tiny_prior(args.level, vq.cfg)
            path = train_prior(codes, args.level, cfg, opts, args.init, progress=_printer(f"prior {args.level}"))
    except (TrainError, TrainDataError, CheckpointError) as exc:
        print(f"studio train: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("studio train: interrupted; resume with the same command plus --resume", file=sys.stderr)
        return 130
    print(f"model written to {path}", flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="studio train", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
