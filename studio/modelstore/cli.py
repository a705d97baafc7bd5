"""``studio models``: list, verify, download model folders; show the licence; set a mirror; check the hardware.

All printing happens here; the library reports through callbacks and exceptions.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from studio.modelstore.catalog import DEFAULT_BASE_URL
from studio.modelstore.download import DownloadProgress, download_model, licence_accepted
from studio.modelstore.errors import ModelStoreError, UnknownModelError, human_bytes
from studio.modelstore.licence import LICENCE_TEXT
from studio.modelstore.manifest import Status, check_folder
from studio.modelstore.store import Settings, default_models_dir, discover, find_model, set_mirror


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="models directory (default: $JUKEBOX_MODELS_DIR, else "
                             "$XDG_DATA_HOME/jukebox-studio/models, XDG_DATA_HOME defaulting to ~/.local/share)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    p = sub.add_parser("list", help="list the model folders found and their status")
    p.add_argument("--dir", action="append", type=Path, default=[], help="also look in this folder (repeatable)")
    p = sub.add_parser("verify", help="check files against the manifest's sizes and sha256")
    p.add_argument("target", nargs="?", help="model name or folder (default: every model found)")
    p.add_argument("--quick", action="store_true", help="compare sizes only, skip the sha256 pass")
    p = sub.add_parser("download", help="download (or resume) an official model: 5b, 5b_lyrics or 1b_lyrics")
    p.add_argument("name")
    p.add_argument("--to", type=Path, help="model folder to fill (default: MODELS_DIR/NAME)")
    p.add_argument("--mirror", help=f"base URL serving the same paths (default: {DEFAULT_BASE_URL})")
    p.add_argument("--save-mirror", action="store_true", help="remember --mirror in the models directory's settings")
    p.add_argument("--accept-licence", "--accept-license", dest="accept_licence", action="store_true",
                   help="accept OpenAI's noncommercial licence without the prompt (for scripts)")
    p.add_argument("--retries", type=int, default=3, help="automatic resumptions after a dropped connection")
    p.add_argument("--rehash", action="store_true", help="record new sha256 values instead of checking the old ones")
    sub.add_parser("licence", aliases=["license"], help="show the licence of the official files")
    p = sub.add_parser("mirror", help="show, set or clear the mirror setting")
    p.add_argument("url", nargs="?")
    p.add_argument("--clear", action="store_true")
    p = sub.add_parser("check", help="will a model fit here? recommended dtype and batch per level")
    p.add_argument("target", nargs="?", default="5b_lyrics", help="official name or model folder")
    p.add_argument("--device", help="cpu, cuda or cuda:N (default: the GPU if there is one)")
    p.add_argument("--level", type=int, choices=(0, 1, 2), help="refuse unless this level fits at --batch")
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--dtype", choices=("fp32", "fp16", "bf16"), default=None)
    p = sub.add_parser("labels", help="the artists and genres a model knows (names to use in a song spec)")
    p.add_argument("target", metavar="NAME", help="model name or folder")
    p.add_argument("--search", default="", help="only the names holding this text (else the nearest names)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--artists", dest="kinds", action="store_const", const=("artists",), help="artists only")
    which.add_argument("--genres", dest="kinds", action="store_const", const=("genres",), help="genres only")


class ProgressBar:
    """One-line terminal progress bar on stderr, redrawn at most 10 times a second."""

    def __init__(self, stream=None, width: int = 30):
        self.stream, self.width, self.last, self.t0, self.current = stream, width, 0.0, time.monotonic(), None

    def __call__(self, p: DownloadProgress) -> None:
        if p.stage in ("skip", "link"):
            verb = "already here" if p.stage == "skip" else "linked from another model folder"
            self._line(f"  {p.path}: {verb} ({human_bytes(p.done)})\n")
        elif p.stage == "plan":
            self._line(f"\r  checking {p.path} ...".ljust(70) + "\r")
        elif p.stage == "download":
            if p.path != self.current:
                self.current, self.t0 = p.path, time.monotonic()
            now = time.monotonic()
            finished = p.total is not None and p.done >= p.total
            if now - self.last < 0.1 and not finished:
                return
            self.last = now
            frac = p.done / p.total if p.total else 0.0
            bar = "#" * int(frac * self.width)
            rate = p.done / max(now - self.t0, 1e-3)
            size = f"{human_bytes(p.done)}/{human_bytes(p.total)}" if p.total else human_bytes(p.done)
            self._line(f"\r  [{bar:<{self.width}}] {frac:4.0%} {size} {human_bytes(rate)}/s "
                       f"{p.path} ({p.file_index + 1}/{p.file_count})" + ("\n" if finished else ""))

    def _line(self, text: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(text)
        stream.flush()


def _models_dir(args) -> Path:
    return args.models_dir or default_models_dir()


def _cmd_list(args) -> int:
    errors: list = []
    entries = discover(_models_dir(args), args.dir, errors=errors)
    print(f"models directory: {_models_dir(args)}")
    if not entries:
        print("no model folders found; get one with 'studio models download 1b_lyrics'")
    for e in entries:
        check = check_folder(e.folder, e.manifest)
        size = sum(f.size or 0 for f in e.manifest.files)
        print(f"  {e.name:<14} {check.status.value:<9} {human_bytes(size):>9}  {e.source:<8} {e.folder}")
        for f in check.problems:
            print(f"      {f.path}: {f.detail}")
    for err in errors:
        print(f"  skipped: {err}", file=sys.stderr)
    return 0


def _cmd_verify(args) -> int:
    entries = [find_model(args.target, _models_dir(args))] if args.target else discover(_models_dir(args))
    if not entries:
        print("no model folders found to verify", file=sys.stderr)
        return 1
    bad = 0
    for e in entries:
        shown = {"t": 0.0}

        def progress(path, done, total, _s=shown):
            if time.monotonic() - _s["t"] > 0.2 or done == total:
                _s["t"] = time.monotonic()
                sys.stderr.write(f"\r  hashing {path}: {done / max(total, 1):4.0%}".ljust(70))
                sys.stderr.flush()

        check = check_folder(e.folder, e.manifest, deep=not args.quick, progress=progress)
        sys.stderr.write("\r".ljust(72) + "\r")
        print(f"{e.name} ({e.folder}): {check.status.value}")
        for f in check.files:
            print(f"  {'ok ' if f.status is Status.COMPLETE else 'BAD'} {f.path}: {f.detail}")
        if check.status is not Status.COMPLETE:
            bad += 1
            fix = (f"delete the damaged files and run 'studio models download {e.name}'" if check.status is Status.CORRUPT
                   else f"run 'studio models download {e.name}' to fetch or resume the missing files")
            print(f"  fix: {fix}")
    return 1 if bad else 0


def _cmd_download(args) -> int:
    models_dir = _models_dir(args)
    folder = args.to or models_dir / args.name
    accept = args.accept_licence
    if not accept and not licence_accepted(models_dir, folder):
        print(LICENCE_TEXT)
        if not sys.stdin.isatty():
            print("error: the licence must be accepted first. Fix: read it above and pass --accept-licence",
                  file=sys.stderr)
            return 2
        accept = input("Do you accept these terms? [y/N] ").strip().lower() in ("y", "yes")
        if not accept:
            print("not accepted: nothing was downloaded")
            return 2
    if args.mirror and args.save_mirror:
        set_mirror(models_dir, args.mirror)
    mirror = args.mirror or (Settings.load(models_dir).mirror if models_dir.is_dir() else None)
    print(f"downloading {args.name} into {folder} from {mirror or 'the official addresses'}")
    result = download_model(args.name, models_dir, to=args.to, mirror=mirror, accept=accept,
                            progress=ProgressBar(), retries=args.retries, rehash=args.rehash)
    total = sum(f.size or 0 for f in result.manifest.files)
    print(f"done: {args.name} in {result.folder} ({human_bytes(total)}; {human_bytes(result.transferred)} "
          f"transferred, {len(result.reused)} linked, {len(result.skipped)} already here)")
    return 0


def _cmd_mirror(args) -> int:
    models_dir = _models_dir(args)
    if args.clear or args.url:
        set_mirror(models_dir, None if args.clear else args.url)
    s = Settings.load(models_dir)
    print(f"mirror: {s.mirror or 'none (official addresses: ' + DEFAULT_BASE_URL + ')'}")
    return 0


def _cmd_check(args) -> int:
    from studio.engine.configs import OFFICIAL_MODELS
    from studio.modelstore import hardware

    memory = hardware.available_memory(args.device)
    if args.target in OFFICIAL_MODELS:
        name, configs = args.target, hardware.official_configs(args.target)
    else:
        entry = find_model(args.target, _models_dir(args))
        name, configs = entry.name, hardware.manifest_configs(entry.manifest)
        if not configs:
            print(f"error: {entry.folder} records no network configs. Fix: check an official model by name",
                  file=sys.stderr)
            return 2
    report = hardware.plan_model(name, memory, configs)
    print("\n".join(report.summary_lines()))
    if args.level is not None:
        dtype = args.dtype or next(p.dtype for p in report.levels if p.level == args.level)
        est = hardware.check_fits(configs[args.level], args.batch, dtype, memory, model=name)
        print(f"level {args.level} at batch {args.batch} in {dtype}: fits ({human_bytes(est.total)})")
    return 0 if report.fits else 1


def _label_tables(entry):
    """The top prior's artist/genre tables of a model folder (the version its configs name, else the one its
    ``ids/`` holds), or None when the folder has none."""
    from studio.engine.labels import Labeller, find_ids_dir
    from studio.modelstore import hardware

    configs = hardware.manifest_configs(entry.manifest)
    versions = [("v3" if configs[max(configs)].labels_v3 else "v2")] if configs else ["v2", "v3"]
    for v in versions:
        ids = find_ids_dir(entry.folder, (f"{v}_artist_ids.txt", f"{v}_genre_ids.txt"))
        if ids is not None:
            return Labeller.from_dir(ids, v, max_bow_genre_size=1, n_tokens=0)
    return None


def _cmd_labels(args) -> int:
    from studio.engine.labels import nearest_names, readable, search_names

    try:
        entry = find_model(args.target, _models_dir(args))
    except UnknownModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    labeller = _label_tables(entry)
    if labeller is None:
        print(f"error: {entry.folder} has no artist/genre tables (an 'ids' folder). Fix: run 'studio models "
              f"download {entry.name}' to fetch them, or set JUKEBOX_IDS_DIR to the folder holding them",
              file=sys.stderr)
        return 1
    tables = {"artists": labeller.artist_names(), "genres": labeller.genre_names()}
    for kind in args.kinds or ("artists", "genres"):
        names = search_names(args.search, tables[kind])
        if names or not args.search:
            head = f"{len(names)} {kind if len(names) != 1 else kind[:-1]}" + (
                f" holding {args.search!r}" if args.search else "")
        else:  # a misspelt search still answers
            names = nearest_names(args.search, tables[kind])
            head = f"no {kind[:-1]} holds {args.search!r}" + ("; the nearest" if names else "")
        print(f"{entry.name}: {head}" + (":" if names else ""))
        for name in names:
            print(f"  {readable(name)}")
    return 0


def run(args) -> int:
    action = getattr(args, "action", None)
    handlers = {"list": _cmd_list, "verify": _cmd_verify, "download": _cmd_download, "mirror": _cmd_mirror,
                "check": _cmd_check, "labels": _cmd_labels}
    if action in ("licence", "license"):
        print(LICENCE_TEXT)
        return 0
    if action not in handlers:
        print("usage: studio models {list,verify,download,licence,mirror,check,labels} ... (see --help)",
              file=sys.stderr)
        return 2
    try:
        return handlers[action](args)
    except ModelStoreError as exc:
        sys.stderr.write("\n")
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume", file=sys.stderr)
        return 130
