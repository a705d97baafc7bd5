"""The studio runs its jobs on a Ray cluster: Run Jobs On... names a local cluster (Test connection answers from the
sampler process), and a generate job runs there end to end, showing which worker samples what, to the same codes
as an in-process render of the same spec and seed."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.engine.takes import Take
from tests.ui.conftest import TINY_SPEC, type_spec

pytest.importorskip("ray", reason="the render farm needs Ray: pip install 'jukebox-studio[farm]'")
pytestmark = pytest.mark.farm


@pytest.fixture(scope="module")
def farm_address():
    """A local Ray cluster (the farm tests' one) that the studio's sampler process joins by its loopback address."""
    import ray

    from tests.farm import conftest as farm

    started = not ray.is_initialized()  # tests/farm's session-wide cluster may be up already: share it
    if started:
        farm.start_local_cluster(ray)
    yield farm.cluster_address(ray)
    if started:
        ray.shutdown()


def test_a_generate_job_runs_on_a_local_ray_cluster_and_shows_its_workers(qtbot, studio, settings, farm_address,
                                                                          tiny_models, tmp_path):
    from studio.engine.cascade import run_take
    from studio.engine.jobs import new_take
    from studio.engine.spec import SongSpec
    from studio.ui.run_target_dialog import RunTargetDialog

    window, session, rec = studio
    window.actions_by_name["run_target"].trigger()
    dialog = window.findChild(RunTargetDialog)
    assert dialog.local.isChecked() and not dialog.address.isEnabled() and not dialog.test_button.isEnabled()
    qtbot.mouseClick(dialog.cluster, Qt.LeftButton)
    assert dialog.address.isEnabled() and not dialog.ok_button.isEnabled()  # a cluster needs an address

    qtbot.keyClicks(dialog.address, "127.0.0.1:1")  # nothing listens there: one clear line, no traceback
    with qtbot.waitSignal(session.farm_checked, timeout=60_000) as answer:
        qtbot.mouseClick(dialog.test_button, Qt.LeftButton)
    ok, text = answer.args
    assert not ok and "no Ray cluster is reachable at '127.0.0.1:1'" in text and "ray start --head" in text
    assert dialog.result.text() == text and "Traceback" not in text

    dialog.address.clear()
    qtbot.keyClicks(dialog.address, farm_address)
    with qtbot.waitSignal(session.farm_checked, timeout=600_000) as answer:
        qtbot.mouseClick(dialog.test_button, Qt.LeftButton)
    ok, text = answer.args
    assert ok and text.startswith(f"Connected to {farm_address}: 1 node, 0 GPUs, 2 CPUs (")
    qtbot.mouseClick(dialog.ok_button, Qt.LeftButton)
    assert session.run_target == farm_address and settings.value("farm/address") == farm_address

    shown = []  # what the job area showed each time the workers' units changed
    session.units_changed.connect(lambda texts: shown.append(window.queue.workers.text()) if texts else None)
    type_spec(qtbot, window.editor, TINY_SPEC)
    with qtbot.waitSignal(session.job_ended, timeout=600_000) as ended:
        qtbot.mouseClick(window.editor.generate_button, Qt.LeftButton)
    done = ended.args[0]
    assert done.error is None and not done.cancelled, done
    planned = rec.of("job_planned")[0]
    assert planned.levels == (2,) and planned.n_candidates == 2
    n_windows = len(planned.windows[2])
    names = rec.names()
    assert names[:2] == ["job_started", "job_planned"] and names[-1] == "job_ended"
    assert [w.window for w in rec.of("window_done")] == list(range(n_windows))
    assert rec.of("job_progress") and rec.of("codes_changed")  # the views followed the job as they do a local one
    assert shown and all(text.startswith("On the farm: level 2 window ") for text in shown)
    assert any("(candidates 1, 2) - worker 1 on " in text or "(candidates 1, 2) - worker 2 on " in text
               for text in shown)
    assert not window.queue.isVisibleTo(window)  # the job ended: no worker is shown busy

    farm = Take.load(done.take_dir)
    assert farm.record.status == "done" and farm.record.levels_done == [2]
    local = new_take(SongSpec.from_dict(farm.record.spec), tmp_path / "local", tiny_models)
    assert not list(run_take(local, tiny_models))[-1].error
    assert farm.record.seed == local.record.seed
    np.testing.assert_array_equal(farm.codes(2), local.codes(2))
    assert (farm.codes(2) >= 0).all()
