"""Study files and batch runs, on hand-made notebooks (no real data needed)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import nbformat
import pytest

from transitmile import cli
from transitmile.errors import StudyError
from transitmile.study import read_records, read_study, run_study

REPO = Path(__file__).parent.parent
STUDY = """\
study: tiny
dataset: porto_alegre
date: 2019-05-13
window: "14:00-16:00"
engine: embedded
parameters: {threshold_min: 10, cutoffs: [30, 45]}
notebooks: [01_ok, 02_fails]
"""


def _notebook(path: Path, *cells: str, parameters: str | None = None) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    if parameters is not None:
        nb.cells.append(nbformat.v4.new_code_cell(parameters, metadata={"tags": ["parameters"]}))
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)


@pytest.fixture
def study_dir(tmp_path):
    """A study file and two notebooks: one records values and writes stderr, one fails."""
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _notebook(
        notebooks / "01_ok.ipynb",
        "import os, sys\nimport transitmile as tm\nfrom transitmile.study import record",
        "record('threshold', threshold_min)\nrecord('window', window)\n"
        "record('progress', tm.settings.progress)\n"
        "record('tqdm_disabled', os.environ.get('TQDM_DISABLE'))",
        "print('NOISE ON STDERR', file=sys.stderr)\nprint('visible output')",
        parameters="threshold_min = 99.0\nwindow = '00:00-01:00'\nunrelated = 1",
    )
    _notebook(notebooks / "02_fails.ipynb", "raise ValueError('broken on purpose')", parameters="")
    (tmp_path / "tiny.yml").write_text(STUDY)
    return tmp_path


def _bad_study(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "bad.yml"
    path.write_text(STUDY.replace(old, new))
    (tmp_path / "notebooks").mkdir(exist_ok=True)
    for name in ("01_ok", "02_fails"):
        _notebook(tmp_path / "notebooks" / f"{name}.ipynb", "pass", parameters="")
    return path


def test_the_porto_alegre_study_file_reads():
    study = read_study(REPO / "data" / "studies" / "porto_alegre.yml")
    assert study.name == "porto_alegre"
    assert study.date == dt.date(2019, 5, 13)
    assert study.window == "14:00-16:00"
    assert study.parameters["threshold_min"] == 10
    assert study.parameters["cutoffs"] == [30, 45, 60]
    assert study.notebooks[0] == REPO / "notebooks" / "01_feed_overview.ipynb"
    params = study.notebook_parameters()
    assert params["date"] == "2019-05-13" and params["engine"] == "auto"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("engine: embedded", "engine: embedded\ncolour: red", "'colour' is not a study key"),
        ("date: 2019-05-13", "date: 2019-13-45", "'date' must be a date YYYY-MM-DD, got '2019-13-45'"),
        ("date: 2019-05-13", "date: tomorrow", "'date' must be a date"),
        ('window: "14:00-16:00"', 'window: "16:00-14:00"', "'window' must be HH:MM-HH:MM"),
        ("engine: embedded", "engine: fast", "'engine' must be one of"),
        ("dataset: porto_alegre", "dataset: lisbon", "'dataset' must be a catalog data set"),
        ("threshold_min: 10", "threshold_minutes: 10", "'parameters.threshold_minutes' is not"),
        ("threshold_min: 10", "threshold_min: -1", "'parameters.threshold_min' must be positive"),
        ("cutoffs: [30, 45]", "cutoffs: [30, x]", "'parameters.cutoffs' must be a list"),
        ("[01_ok, 02_fails]", "[01_ok, 03_missing]", "'notebooks[1]' names no file notebooks/03"),
        ("study: tiny\n", "", "missing key 'study'"),
    ],
)  # fmt: skip
def test_a_bad_study_file_names_the_field(tmp_path, old, new, message):
    with pytest.raises(StudyError, match="bad.yml") as caught:
        read_study(_bad_study(tmp_path, old, new))
    assert message in str(caught.value)


def test_a_missing_study_file_is_named(tmp_path):
    with pytest.raises(StudyError, match=r"study file '.*nowhere.yml' does not exist"):
        read_study(tmp_path / "nowhere.yml")


def test_a_bad_study_stops_the_batch_before_any_notebook_runs(study_dir, capsys):
    bad = _bad_study(study_dir, "date: 2019-05-13", "date: 2019-02-30")
    code = cli.main(["run", str(study_dir / "tiny.yml"), str(bad), "--out", str(study_dir / "r")])
    assert code == 2
    assert "'date' must be a date" in capsys.readouterr().err
    assert not (study_dir / "r").exists()  # the good study did not start either


def test_only_must_name_a_notebook_of_the_study(study_dir):
    with pytest.raises(StudyError, match="--only: no notebook '09_nope'"):
        run_study(study_dir / "tiny.yml", study_dir / "r", only=["09_nope"])


def test_a_batch_run_publishes_reports_and_survives_a_failing_notebook(study_dir, capsys):
    out = study_dir / "reports"
    code = cli.main(["run", str(study_dir / "tiny.yml"), "--out", str(out)])
    printed = capsys.readouterr().out
    assert code == 1
    assert "1 of 2 notebooks failed" in printed
    assert f"index: {out / 'tiny' / 'index.html'}" in printed
    folder = out / "tiny"
    assert sorted(p.name for p in folder.iterdir()) == [
        "01_ok.html",
        "01_ok.ipynb",
        "02_fails.html",
        "02_fails.ipynb",
        "index.html",
        "manifest.json",
    ]  # fmt: skip  (no staging folder left behind)
    # the study's parameters reached the notebook; those it does not declare did not
    records = read_records(folder / "01_ok.ipynb")
    assert records == {"threshold": 10, "window": "14:00-16:00", "progress": False,
                       "tqdm_disabled": "1"}  # fmt: skip
    executed = nbformat.read(folder / "01_ok.ipynb", as_version=4)
    injected = next(
        c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])
    )
    assert "threshold_min = 10" in injected.source and "cutoffs" not in injected.source
    # stderr stays in the executed notebook, never in the HTML; the code is hidden
    assert "NOISE ON STDERR" in (folder / "01_ok.ipynb").read_text()
    page = (folder / "01_ok.html").read_text()
    assert "visible output" in page and "NOISE ON STDERR" not in page
    assert "record(&#39;threshold&#39;" not in page and "record('threshold'" not in page
    # the failing notebook keeps its executed copy with the failing cell
    failed = nbformat.read(folder / "02_fails.ipynb", as_version=4)
    errors = [o for c in failed.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert errors[0].evalue == "broken on purpose"
    manifest = json.loads((folder / "manifest.json").read_text())["notebooks"]
    assert manifest["01_ok"]["status"] == "ok"
    assert manifest["02_fails"]["status"] == "failed"
    assert "ValueError: broken on purpose" in manifest["02_fails"]["error"]
    index = (folder / "index.html").read_text()
    assert "class='failed'" in index and "1 failed: 02_fails" in index
    assert "2019-05-13" in index and "14:00-16:00" in index and "embedded" in index
    assert "90f9e66980efc998d4bf69f13b760b93bb85bf41f884eb6818629cd261a547ba" in index  # EPTC
    assert "papermill" in index


def test_a_rerun_skips_unchanged_notebooks_unless_forced(study_dir):
    out = study_dir / "reports"
    first = {r.notebook: r for r in run_study(study_dir / "tiny.yml", out, jobs=2)}
    assert first["01_ok"].status == "ok"
    second = {r.notebook: r for r in run_study(study_dir / "tiny.yml", out)}
    assert second["01_ok"].status == "unchanged"
    assert second["01_ok"].ran_at == first["01_ok"].ran_at
    assert second["02_fails"].status == "failed"  # a failed notebook always runs again
    forced = run_study(study_dir / "tiny.yml", out, force=True, only=["01_ok"])
    assert [(r.notebook, r.status) for r in forced] == [("01_ok", "ok")]
    index = (out / "tiny" / "index.html").read_text()
    assert "02_fails" in index  # the index still lists the notebook not asked for
    (study_dir / "tiny.yml").write_text(STUDY.replace("threshold_min: 10", "threshold_min: 12"))
    changed = run_study(study_dir / "tiny.yml", out, only=["01_ok"])
    assert changed[0].status == "ok" and changed[0].records["threshold"] == 12


def test_with_code_shows_the_code_and_an_interrupted_run_leaves_no_trace(study_dir):
    leftover = study_dir / "r" / "tiny" / ".staging-interrupted"
    leftover.mkdir(parents=True)
    (leftover / "01_ok.html").write_text("<html>half")  # a run killed before moving it
    run_study(study_dir / "tiny.yml", study_dir / "r", with_code=True, only=["01_ok"])
    assert "NOISE ON STDERR" in (study_dir / "r" / "tiny" / "01_ok.html").read_text()  # the code
    assert not leftover.exists()
    assert [p.name for p in (study_dir / "r" / "tiny").glob(".*")] == []


def test_origin_sample_is_seeded_and_keeps_the_input_order():
    import geopandas as gpd

    from transitmile.study import origin_sample

    points = gpd.GeoDataFrame(
        {"id": [f"p{i}" for i in range(50)]},
        geometry=gpd.points_from_xy(range(50), range(50)),
        crs=4326,
    )
    first, again = origin_sample(points, 10), origin_sample(points, 10)
    assert list(first["id"]) == list(again["id"]) and len(first) == 10
    assert list(first.index) == sorted(first.index)
    assert first.attrs["sample"] == "a seeded sample of 10 of 50"
    assert origin_sample(points, None).attrs["sample"] == "all 50"
    assert len(origin_sample(points, 500)) == 50
