"""One local Ray cluster for every farm test (loopback only, no dashboard, two CPU slots), the tiny model, and the
in-process take the farm's takes must equal byte for byte."""

from __future__ import annotations

import os

import pytest

from tests.conftest import tiny_model_set_or_skip, write_model_folder
from tests.sampler.conftest import SPEC, TINY_SECONDS

# a quarter of the sampler tests' song: windows {2: 1, 1: 3, 0: 15}; one candidate per batch, so the three
# candidates are three units of every window and run side by side
FARM_SPEC = dict(seconds=TINY_SECONDS / 4, candidates=3, max_batch=[1, 1, 1], device="cpu", **SPEC)


def start_local_cluster(ray) -> None:
    """Start the tests' Ray cluster in this process: two CPU slots, loopback, no dashboard. Another process joins it
    at ``cluster_address(ray)``."""
    from studio.farm.cluster import NAMESPACE

    # why: Ray starts its workers at nice 15; on a CI machine whose cores other work keeps busy they then get a
    # sliver of the CPU and the farm tests crawl (seen: minutes per unit beside two busy processes)
    os.environ.setdefault("RAY_worker_niceness", "0")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", namespace=NAMESPACE,
             logging_level="ERROR", log_to_driver=False)


def cluster_address(ray) -> str:
    """The address (loopback host:port) at which another process of this machine joins the running cluster."""
    return "127.0.0.1:" + ray.get_runtime_context().gcs_address.rpartition(":")[2]


@pytest.fixture(scope="session")
def ray_cluster():
    ray = pytest.importorskip("ray")
    start_local_cluster(ray)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def farm_models():
    return tiny_model_set_or_skip()


@pytest.fixture(scope="session")
def local_take(farm_models, tmp_path_factory):
    """FARM_SPEC rendered in this process by ``cascade.run_take``."""
    from studio.engine.cascade import run_take
    from studio.engine.jobs import new_take
    from studio.engine.spec import SongSpec

    take = new_take(SongSpec(**FARM_SPEC), tmp_path_factory.mktemp("local") / "take", farm_models)
    assert not list(run_take(take, farm_models))[-1].error
    return take


@pytest.fixture(scope="session")
def model_dir(farm_models, tmp_path_factory):
    """The tiny model as a model folder in the project's format (what `--models-dir` finds by name)."""
    return write_model_folder(farm_models, tmp_path_factory.mktemp("models") / "tiny")
