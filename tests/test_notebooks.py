"""Notebooks stay thin, output-free in git, and run end to end with papermill."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import nbformat
import pytest

matplotlib.use("Agg")

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_there_are_numbered_notebooks():
    assert [p.name[:3] for p in NOTEBOOKS] == [f"{i:02d}_" for i in range(1, len(NOTEBOOKS) + 1)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_and_with_a_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "run nbstripout"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1


def test_nbstripout_has_nothing_to_strip():
    import subprocess
    import sys

    pytest.importorskip("nbstripout")
    done = subprocess.run(
        [sys.executable, "-m", "nbstripout", "--verify", *map(str, NOTEBOOKS)],
        capture_output=True, text=True,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_feed_overview_runs_and_states_its_takeaway(tmp_path, poa_gtfs):
    papermill = pytest.importorskip("papermill")
    out = tmp_path / "01.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS[0]), str(out), parameters={"window_start": "15:00", "window_end": "16:00"},
        progress_bar=False, kernel_name="python3",
    )  # fmt: skip
    nb = nbformat.read(out, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    texts = [o.get("data", {}).get("text/markdown", "") for o in outputs]
    takeaway = next(t for t in texts if "Takeaway" in t)
    assert "between 15:00 and 16:00 on 2019-05-13 are frequent" in takeaway
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the headway figure


def test_headway_figure_is_titled_and_labelled(poa_feed):
    from transitmile import plots, stop_service

    service = stop_service(poa_feed, "14:00", "16:00")
    ax = plots.plot_stop_headways(service, 15, window="14:00-16:00")
    assert "64% of served stops are frequent" in ax.get_title()
    assert "min" in ax.get_xlabel() and ax.get_ylabel() == "stops"
    fmap = plots.map_stop_service(service, 15)
    html = fmap.get_root().render()
    assert "15 min) (2489)" in html  # the layer of frequent stops, with its count
