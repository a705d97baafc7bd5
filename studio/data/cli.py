"""`studio data build OUT ...`: build the openly licensed demo training set; `studio data info OUT`: describe one."""

from __future__ import annotations

import argparse
import sys
import time


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Sub-commands of ``studio data``."""
    sub = parser.add_subparsers(dest="data_command", metavar="ACTION")
    build = sub.add_parser("build", help="render the music21 corpus into a labelled training set")
    build.add_argument("out", help="output folder (new or empty)")
    build.add_argument("--seed", type=int, default=0, help="decides works, order and instruments (default 0)")
    build.add_argument("--tiny", action="store_true", help="8 short items in seconds, for tests")
    build.add_argument("--max-hours", type=float, default=3.0, help="stop after this much audio (default 3)")
    build.add_argument("--sr", type=int, default=22050, help="sample rate of the mono clips (default 22050)")
    build.add_argument("--workers", type=int, default=1, help="render processes (default 1)")
    build.add_argument("--soundfont", default="", help="a General MIDI .sf2/.sf3 (default: Debian's FluidR3Mono)")
    build.add_argument("--format", dest="audio_format", choices=("wav", "flac"), default="wav",
                       help="clip format, 16-bit (default wav)")
    build.add_argument("--no-vocals", dest="vocals", action="store_false", help="do not sing the lyrics")
    build.add_argument("--no-share-alike", dest="share_alike", action="store_false",
                       help="leave out CC-BY-SA and GPL encodings")
    build.add_argument("--max-item-seconds", type=float, default=300.0, help="cut longer works here (default 300)")
    info = sub.add_parser("info", help="summarise a built set")
    info.add_argument("out", help="a folder made by 'studio data build'")


def _print_progress(done: float, wanted: float, message: str) -> None:
    share = 100.0 * done / wanted if wanted else 100.0
    print(f"[{share:5.1f}%] {done / 60:7.1f} min  {message}", flush=True)


def run(args: argparse.Namespace) -> int:
    """Run ``studio data ACTION``; returns the exit code."""
    from studio.data.errors import DataBuildError

    try:
        if args.data_command == "build":
            return _build(args)
        if args.data_command == "info":
            return _info(args)
    except DataBuildError as exc:
        print(f"studio data: {exc}", file=sys.stderr)
        return 1
    print("usage: studio data {build,info} OUT ... (see 'studio data build --help')", file=sys.stderr)
    return 2


def _build(args: argparse.Namespace) -> int:
    from studio.data.build import build_dataset

    if args.workers < 1:
        print(f"studio data: --workers must be at least 1, got {args.workers}. Fix: pass --workers 1.",
              file=sys.stderr)
        return 2
    began = time.monotonic()
    result = build_dataset(args.out, seed=args.seed, tiny=args.tiny, max_hours=args.max_hours, sr=args.sr,
                           progress=_print_progress, workers=args.workers, soundfont=args.soundfont,
                           audio_format=args.audio_format, vocals=args.vocals, share_alike=args.share_alike,
                           max_item_seconds=args.max_item_seconds)
    sung = sum(1 for i in result.items if i["lyric_timing"])
    print(f"wrote {len(result.items)} items, {result.hours:.2f} h ({sung} sung) to {result.out} "
          f"in {time.monotonic() - began:.0f} s; {len(result.skipped)} works skipped (see build.json)")
    return 0


def _info(args: argparse.Namespace) -> int:
    from studio.data.reader import Dataset

    ds = Dataset(args.out)
    sung = [i for i in ds.items if i["lyric_timing"]]
    print(f"{ds.root}: {len(ds)} items, {ds.hours:.2f} h, {len(ds.artists) - 1} artists, "
          f"{len(ds.genres) - 1} genres, {len(sung)} sung items "
          f"({sum(i['seconds'] for i in sung) / 3600:.2f} h)")
    return 0
