"""`studio farm status [--ray ADDRESS]`: the Ray cluster's nodes and GPUs, and what each studio worker is doing."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("action", choices=("status",), help="status: nodes, GPUs and workers of the cluster")
    p.add_argument("--ray", default="auto", metavar="auto|ADDRESS",
                   help="the cluster: 'auto' (default) is the one this machine is part of; ADDRESS is the head's "
                        "host:port")
    p.add_argument("--json", action="store_true", help="print the status as one JSON object")


def status_text(st: dict) -> str:
    """The cluster status (``cluster.cluster_status``) as lines for a terminal."""
    lines = [f"{len(st['nodes'])} node(s): {st['gpus']:g} GPU(s), {st['cpus']:g} CPU(s); free: "
             f"{st['free_gpus']:g} GPU(s), {st['free_cpus']:g} CPU(s)"]
    for node in st["nodes"]:
        lines.append(f"  node {node['address']}: {node['gpus']:g} GPU(s), {node['cpus']:g} CPU(s)"
                     f"{'' if node['alive'] else ' (lost)'}")
    if not st["workers"]:
        lines.append("no studio workers (they run while a `studio render --ray` or `studio batch --ray` job runs)")
    for w in st["workers"]:
        where = f"{w['host']} pid {w['pid']}, GPU {','.join(w['gpus'])}" if "host" in w else "?"
        if "host" in w and not w["gpus"]:
            where = f"{w['host']} pid {w['pid']}, CPU"
        done = f", {w['units_done']} unit(s) done" if "units_done" in w else ""
        lines.append(f"  worker {w['name']} ({where}): {w['doing']}{done}")
    return "\n".join(lines)


def run(args) -> int:
    from studio.farm.cluster import FarmUnavailable, cluster_status, connect

    try:
        ray = connect(args.ray, start_local=False)
    except FarmUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    st = cluster_status(ray)
    print(json.dumps(st) if args.json else status_text(st))
    return 0
