"""Study files and batch runs: notebooks executed with papermill, published as HTML.

A study YAML (``data/studies/*.yml``) names a data set, a service date, a time
window, an engine, the analysis parameters and the notebooks to run.
:func:`read_study` checks all of it before any notebook starts; :func:`run_study`
executes the notebooks with papermill, renders them with nbconvert and writes
``<out>/<study>/index.html`` with the run's metadata. Notebooks record their key
figures with :func:`record`; :func:`read_records` reads them back from an
executed notebook (tests and the index use them).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import datetime as dt
import hashlib
import html
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from .errors import StudyError, show_value

__all__ = [
    "Study",
    "NotebookRun",
    "read_study",
    "run_study",
    "record",
    "read_records",
    "method_note",
    "origin_sample",
    "takeaway",
    "render_html",
    "data_hashes",
    "package_versions",
    "summary_lines",
    "RECORD_MIMETYPE",
    "STUDY_KEYS",
    "PARAMETER_DEFAULTS",
]

#: Output mimetype of the values a notebook records with :func:`record`.
RECORD_MIMETYPE = "application/vnd.transitmile.record+json"

#: Top-level keys of a study file. ``economics`` and ``scenarios`` belong to
#: :mod:`transitmile.scenarios`, which checks them when it is installed.
STUDY_KEYS = (
    "study",
    "dataset",
    "date",
    "window",
    "engine",
    "parameters",
    "notebooks",
    "economics",
    "scenarios",
)
_REQUIRED_KEYS = ("study", "dataset", "date", "window", "notebooks")

#: Analysis parameters (``parameters:`` in the study file) and their defaults.
PARAMETER_DEFAULTS: dict[str, Any] = {
    "max_headway_min": 15.0,
    "threshold_min": 10.0,
    "speed_walking": 3.6,
    "speed_cycling": 12.0,
    "cutoffs": [30, 45, 60],
    "percentile": 50,
    "departure_window_min": 60,
    "sample_origins": None,
}

#: Environment of the notebooks' kernels in a batch run: no progress bars.
BATCH_ENVIRONMENT = {"TRANSITMILE_PROGRESS": "0", "TQDM_DISABLE": "1"}

#: Packages whose versions a report states.
REPORTED_PACKAGES = (
    "transitmile",
    "numpy",
    "pandas",
    "geopandas",
    "shapely",
    "numba",
    "partridge",
    "r5py",
    "matplotlib",
    "seaborn",
    "folium",
    "papermill",
    "nbconvert",
)


@dataclass(frozen=True)
class Study:
    """A study file, checked.

    Attributes
    ----------
    name : str
        The study's name (``study:``), also the report folder's name.
    path : Path
        The study file.
    dataset : str
        A catalog data set (:func:`transitmile.list_datasets`).
    date : datetime.date
        Service date.
    window : str
        Study time window, ``"HH:MM-HH:MM"``.
    engine : str
        ``"auto"``, ``"embedded"`` or ``"r5py"``.
    parameters : dict
        Analysis parameters (:data:`PARAMETER_DEFAULTS` filled in).
    notebooks : tuple of Path
        The notebooks to run, in order.
    raw : dict
        The file's content as read (``economics`` and ``scenarios`` included).
    """

    name: str
    path: Path
    dataset: str
    date: dt.date
    window: str
    engine: str
    parameters: dict[str, Any]
    notebooks: tuple[Path, ...]
    raw: dict[str, Any] = field(repr=False)

    def notebook_parameters(self) -> dict[str, Any]:
        """Parameters handed to every notebook (each takes those it declares).

        Returns
        -------
        dict
            ``study_file, study, dataset, date, window, engine`` and the analysis
            parameters; plain JSON values.
        """
        return {
            "study_file": str(self.path),
            "study": self.name,
            "dataset": self.dataset,
            "date": self.date.isoformat(),
            "window": self.window,
            "engine": self.engine,
            **self.parameters,
        }


class _SafeLoaderTextDates(yaml.SafeLoader):
    """``yaml.safe_load``'s loader, leaving dates as text so that a bad one is named."""


_SafeLoaderTextDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _fail(path: Path, key: str, problem: str, value: object) -> StudyError:
    return StudyError(f"study {path.name}: {key!r} {problem}, got {show_value(value)}")


def _check_date(path: Path, value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise _fail(path, "date", "must be a date YYYY-MM-DD", value) from None


def _check_window(path: Path, value: object) -> str:
    start, sep, end = str(value).partition("-")
    try:
        times = [dt.time.fromisoformat(t.strip()) for t in (start, end)] if sep else []
    except ValueError:
        times = []
    if len(times) != 2 or times[0] >= times[1]:
        raise _fail(path, "window", "must be HH:MM-HH:MM with the start before the end", value)
    return f"{start.strip()}-{end.strip()}"


def _check_parameters(path: Path, value: object) -> dict[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _fail(path, "parameters", "must be a mapping", value)
    unknown = sorted(set(value) - set(PARAMETER_DEFAULTS))
    if unknown:
        raise _fail(
            path, f"parameters.{unknown[0]}", f"is not a parameter ({sorted(PARAMETER_DEFAULTS)})",
            value[unknown[0]],
        )  # fmt: skip
    merged = {**PARAMETER_DEFAULTS, **value}
    numbers = ("max_headway_min", "threshold_min", "speed_walking", "speed_cycling")
    for key in (*numbers, "departure_window_min"):
        if isinstance(merged[key], bool) or not isinstance(merged[key], int | float):
            raise _fail(path, f"parameters.{key}", "must be a number", merged[key])
        if merged[key] <= 0:
            raise _fail(path, f"parameters.{key}", "must be positive", merged[key])
    cutoffs = merged["cutoffs"]
    if (
        not isinstance(cutoffs, list)
        or not cutoffs
        or not all(isinstance(c, int) and not isinstance(c, bool) and c > 0 for c in cutoffs)
    ):
        raise _fail(path, "parameters.cutoffs", "must be a list of positive whole minutes", cutoffs)
    sample = merged["sample_origins"]
    if sample is not None and (
        not isinstance(sample, int) or isinstance(sample, bool) or sample < 1
    ):
        raise _fail(path, "parameters.sample_origins", "must be null or a positive count", sample)
    if merged["percentile"] not in range(1, 100):
        raise _fail(
            path, "parameters.percentile", "must be a whole number 1..99", merged["percentile"]
        )
    return merged


def _find_notebook(path: Path, name: object, index: int) -> Path:
    if not isinstance(name, str) or not name:
        raise _fail(path, f"notebooks[{index}]", "must be a notebook name", name)
    filename = name if name.endswith(".ipynb") else f"{name}.ipynb"
    direct = path.parent / filename  # a path, absolute or relative to the study file
    if ("/" in name or os.sep in name) and direct.is_file():
        return direct.resolve()
    places = [path.parent, *path.parent.parents, Path.cwd()]
    for place in places:
        candidate = place / "notebooks" / filename
        if candidate.is_file():
            return candidate.resolve()
    raise _fail(
        path, f"notebooks[{index}]", f"names no file notebooks/{filename} near the study file", name
    )


def _check_scenarios(path: Path, raw: dict[str, Any]) -> None:
    """Let :mod:`transitmile.scenarios` check its own keys when it is installed."""
    if "scenarios" not in raw and "economics" not in raw:
        return
    try:
        from . import scenarios  # type: ignore[attr-defined]
    except ImportError:
        return  # before the interventions layer exists these keys are opaque
    for key, reader in (("economics", "read_economics"), ("scenarios", "read_scenarios")):
        if key in raw and hasattr(scenarios, reader):
            getattr(scenarios, reader)(path)


def _check_keys(path: Path, raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise StudyError(f"study {path.name}: expected a mapping of keys, got {show_value(raw)}")
    unknown = sorted(set(raw) - set(STUDY_KEYS))
    if unknown:
        raise _fail(
            path, unknown[0], f"is not a study key ({', '.join(STUDY_KEYS)})", raw[unknown[0]]
        )
    missing = [k for k in _REQUIRED_KEYS if raw.get(k) is None]
    if missing:
        raise StudyError(f"study {path.name}: missing key {missing[0]!r}")
    return raw


def read_study(path: str | os.PathLike) -> Study:
    """Read and check a study YAML file before anything runs.

    Parameters
    ----------
    path : path
        The study file (YAML read by PyYAML's safe loader; dates kept as text).

    Returns
    -------
    Study

    Raises
    ------
    StudyError
        The file is missing or not YAML, a key is unknown or missing, the date,
        window, engine, data set or a parameter is invalid, or a notebook named
        in ``notebooks`` does not exist. The message names the field and value.
    """
    from .data import DATASETS
    from .engines.request import ENGINES

    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise StudyError(f"study file {str(path)!r} does not exist")
    try:
        text = path.read_text(encoding="utf-8")
        raw = _check_keys(path, yaml.load(text, Loader=_SafeLoaderTextDates))  # noqa: S506
    except yaml.YAMLError as exc:
        raise StudyError(f"study {path.name}: not valid YAML: {exc}") from None
    name = str(raw["study"])
    if not name.replace("_", "").replace("-", "").isalnum():
        raise _fail(path, "study", "must be a name of letters, digits, '_' or '-'", raw["study"])
    if raw["dataset"] not in DATASETS:
        raise _fail(
            path, "dataset", f"must be a catalog data set {sorted(DATASETS)}", raw["dataset"]
        )
    engine = raw.get("engine", "auto")
    if engine not in ENGINES:
        raise _fail(path, "engine", f"must be one of {list(ENGINES)}", engine)
    notebooks = raw["notebooks"]
    if not isinstance(notebooks, list) or not notebooks:
        raise _fail(path, "notebooks", "must be a list of notebook names", notebooks)
    study = Study(
        name=name,
        path=path,
        dataset=raw["dataset"],
        date=_check_date(path, raw["date"]),
        window=_check_window(path, raw["window"]),
        engine=engine,
        parameters=_check_parameters(path, raw.get("parameters")),
        notebooks=tuple(_find_notebook(path, nb, i) for i, nb in enumerate(notebooks)),
        raw=raw,
    )
    _check_scenarios(path, raw)
    return study


# ---------------------------------------------------------------------------
# Values recorded by notebooks


def _plain(value: Any) -> Any:
    """JSON-ready form of a recorded value (numpy scalars, frames, dates)."""
    if hasattr(value, "to_dict") and hasattr(value, "columns"):
        return json.loads(value.to_json(orient="records", date_format="iso"))
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    return json.loads(json.dumps(value, default=str))


def record(name: str, value: Any) -> None:
    """Record a value in the running notebook's outputs (scrapbook's ``glue``).

    The value is stored as JSON in an output of its own mimetype; reports do not
    show it, :func:`read_records` reads it back.

    Parameters
    ----------
    name : str
        Name of the value, e.g. ``"frequent_stops"``.
    value : JSON-serialisable, numpy scalar or DataFrame
        A DataFrame is stored as a list of records.
    """
    from IPython.display import display

    display({RECORD_MIMETYPE: {"name": name, "value": _plain(value)}}, raw=True)


def read_records(notebook: str | os.PathLike) -> dict[str, Any]:
    """Values recorded with :func:`record` in an executed notebook.

    Parameters
    ----------
    notebook : path
        An executed ``.ipynb``.

    Returns
    -------
    dict
        Name -> value, in the order recorded (a later value replaces an earlier one).
    """
    import nbformat

    nb = nbformat.read(str(notebook), as_version=4)
    found: dict[str, Any] = {}
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {}).get(RECORD_MIMETYPE)
            if data:
                found[data["name"]] = data["value"]
    return found


def origin_sample(origins, size: int | None, seed: int | None = None):
    """Draw a seeded random sample of origins for quick runs, kept in the input order.

    Parameters
    ----------
    origins : GeoDataFrame
        All origins.
    size : int or None
        How many to keep; None (or at least as many as there are) keeps them all.
    seed : int, optional
        Random seed; default ``transitmile.settings.random_seed``.

    Returns
    -------
    GeoDataFrame
        The sample; ``attrs["sample"]`` says "all N" or "a seeded sample of n of N".
    """
    from . import settings

    total = len(origins)
    if size is None or size >= total:
        sample = origins.copy()
        sample.attrs["sample"] = f"all {total:,}"
        return sample
    rng = seed if seed is not None else settings.random_seed
    sample = origins.sample(n=size, random_state=rng).sort_index()
    sample.attrs["sample"] = f"a seeded sample of {size:,} of {total:,}"
    return sample


def takeaway(text: str):
    """Show a figure's or table's one-line takeaway in bold, as Markdown.

    Parameters
    ----------
    text : str
        The sentence, computed from the data.

    Returns
    -------
    IPython.display.Markdown
    """
    from IPython.display import Markdown

    return Markdown(f"**Takeaway:** {text}")


_FACT_LABELS = {
    "max_headway_min": "Frequent transit: a mean headway of at most {} min in the window",
    "threshold_min": "A gap: more than {} min of walking to the nearest frequent stop",
    "speed_walking": "Walking speed {} km/h",
    "speed_cycling": "Cycling speed {} km/h",
    "cutoffs": "Accessibility cutoffs {} min",
    "percentile": "Travel times: percentile {} of the departure minutes' travel times",
    "departure_window_min": "Departures: every minute of the first {} min of the window",
    "sample_origins": "Origins: {}",
}


def method_note(
    dataset: str,
    date: str | dt.date,
    window: str,
    *,
    engine: str | None = None,
    engine_version: str | None = None,
    **facts: Any,
) -> str:
    """Write the "Method" paragraph of a report in Markdown: how the figures were made.

    Parameters
    ----------
    dataset : str
        Catalog data set; its sources, licences and file hashes are listed.
    date : str or datetime.date
        Service date.
    window : str
        Time window, ``"HH:MM-HH:MM"``.
    engine, engine_version : str, optional
        Routing engine that produced travel times, and its version.
    **facts
        Further settings to state, e.g. ``speed_walking=3.6``; units go in
        the names as elsewhere (``_min``, ``speed_`` in km/h).

    Returns
    -------
    str
        Markdown.
    """
    from .data import SOURCES

    lines = [f"- Service date {date}, time window {window} (local feed time)."]
    if engine:
        lines.append(f"- Routing engine: {engine} {engine_version or ''}".rstrip() + ".")
    for key, value in facts.items():
        label = _FACT_LABELS.get(key, key.replace("_", " ") + ": {}")
        lines.append(f"- {label.format(value)}.")
    lines.append(f"- transitmile {package_versions()['transitmile']}.")
    lines.append("- Data sources and licences:")
    lines += [f"  - {source}" for source in SOURCES.get(dataset, ())]
    hashes = ", ".join(f"{name} `{digest[:12]}`" for name, digest in data_hashes(dataset).items())
    lines.append(f"- Files (sha256, first 12 digits): {hashes}.")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Batch runs


@dataclass
class NotebookRun:
    """The outcome of one notebook in a batch run.

    Attributes
    ----------
    study, notebook : str
        Names (the notebook without ``.ipynb``).
    status : {"ok", "failed", "unchanged"}
        ``"unchanged"``: inputs and parameters as in the last successful run, not run.
    seconds : float
        Execution and rendering time of the run that produced the report, s.
    ran_at : str
        When that run finished (UTC, ISO 8601).
    error : str or None
        The failing cell's exception, one line.
    html, ipynb : str
        Report and executed notebook, relative to the study's report folder.
    input_sha256 : str
        Hash of the notebook, parameters, study file, data and package source.
    records : dict
        Values the notebook recorded (:func:`record`).
    """

    study: str
    notebook: str
    status: str
    seconds: float
    ran_at: str
    error: str | None
    html: str
    ipynb: str
    input_sha256: str
    records: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Task:
    study: str
    notebook: Path
    staging: Path
    parameters: dict[str, Any]
    with_code: bool
    input_sha256: str


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _package_digest() -> str:
    """Hash of transitmile's own source: a code change re-runs the notebooks."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for source in sorted(root.rglob("*.py")):
        digest.update(source.relative_to(root).as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def data_hashes(dataset: str) -> dict[str, str]:
    """sha256 of each file of a catalog data set, as the catalog checks them.

    Parameters
    ----------
    dataset : str
        Catalog name.

    Returns
    -------
    dict
        File name -> sha256 hex digest.
    """
    from .data import DATASETS, FILES

    spec = DATASETS[dataset]
    names = [spec.osm_pbf, *spec.gtfs, spec.origins, spec.pois]
    return {n: FILES[n].sha256 for n in names}


def _declared_parameters(notebook: Path) -> set[str]:
    import papermill

    return set(papermill.inspect_notebook(str(notebook)))


def _input_digest(
    study: Study, notebook: Path, parameters: dict, with_code: bool, code: str
) -> str:
    payload = {
        "notebook": _file_digest(notebook),
        "parameters": parameters,
        "study": {k: v for k, v in study.raw.items() if k != "notebooks"},
        "data": data_hashes(study.dataset),
        "transitmile": code,
        "with_code": with_code,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _clean_for_html(nb) -> None:
    """Drop what a reader should not see: stderr streams and recorded values."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [
            o
            for o in cell.outputs
            if not (o.output_type == "stream" and o.get("name") == "stderr")
            and RECORD_MIMETYPE not in o.get("data", {})
        ]


def render_html(notebook: str | os.PathLike, target: str | os.PathLike, *, with_code=False) -> Path:
    """Render an executed notebook to a self-contained HTML report.

    Parameters
    ----------
    notebook : path
        Executed ``.ipynb``.
    target : path
        The ``.html`` to write (atomically).
    with_code : bool
        Show the code cells; by default only narrative and outputs.

    Returns
    -------
    Path
        The report written.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    _clean_for_html(nb)
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=not with_code,
        exclude_input_prompt=not with_code,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": Path(target).stem}})
    _write_atomic(Path(target), body)
    return Path(target)


def _execute(task: _Task) -> dict[str, Any]:
    """Run one notebook into the staging folder; never raises for a failing cell."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    started = time.perf_counter()
    name = task.notebook.stem
    executed = task.staging / f"{name}.ipynb"
    error = None
    try:
        papermill.execute_notebook(
            str(task.notebook), str(executed), parameters=task.parameters, kernel_name="python3",
            progress_bar=False, log_output=False, cwd=str(task.staging),
            extra_arguments=["--IPKernelApp.log_level=ERROR"],  # no start-up chatter on stderr
        )  # fmt: skip
    except PapermillExecutionError as exc:
        error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}".splitlines()[0]
    except Exception as exc:  # a kernel that dies or never starts: record it, go on
        error = f"{type(exc).__name__}: {exc}".splitlines()[0]
    records: dict[str, Any] = {}
    if executed.is_file():
        try:
            records = read_records(executed)
            render_html(executed, task.staging / f"{name}.html", with_code=task.with_code)
        except Exception as exc:  # an unreadable or unrenderable notebook fails alone
            error = error or f"rendering: {type(exc).__name__}: {exc}".splitlines()[0]
    return {
        "notebook": name,
        "status": "failed" if error else "ok",
        "error": error,
        "seconds": round(time.perf_counter() - started, 1),
        "records": records,
    }


@contextlib.contextmanager
def _batch_environment() -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in BATCH_ENVIRONMENT}
    os.environ.update(BATCH_ENVIRONMENT)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _load_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    try:
        return json.loads((folder / "manifest.json").read_text())["notebooks"]
    except (OSError, ValueError, KeyError):
        return {}


def _write_atomic(target: Path, text: str) -> None:
    from .io import atomic_path

    tmp = atomic_path(target)
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def package_versions() -> dict[str, str]:
    """Installed versions of the packages a report depends on.

    Returns
    -------
    dict
        Distribution name -> version, ``"not installed"`` when absent.
    """
    versions = {}
    for name in REPORTED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _publish(folder: Path, study: Study, runs: dict[str, NotebookRun], started: str) -> None:
    """Write manifest.json and index.html for the notebooks finished so far."""
    manifest = {
        "study": study.name,
        "study_file": str(study.path),
        "updated": started,
        "notebooks": {name: asdict(run) for name, run in runs.items()},
    }
    _write_atomic(folder / "manifest.json", json.dumps(manifest, indent=2, default=str))
    _write_atomic(folder / "index.html", _index_html(study, list(runs.values()), started))


def _plan(
    study: Study, folder: Path, only: Sequence[str] | None, with_code: bool, force: bool
) -> tuple[list[tuple[Path, dict, str]], dict[str, NotebookRun]]:
    """Which notebooks run (with parameters and input hash), which are unchanged."""
    previous = _load_manifest(folder)
    code = _package_digest()
    todo, unchanged = [], {}
    for notebook in study.notebooks:
        if only and notebook.stem not in only:
            continue
        declared = _declared_parameters(notebook)
        parameters = {k: v for k, v in study.notebook_parameters().items() if k in declared}
        digest = _input_digest(study, notebook, parameters, with_code, code)
        old = previous.get(notebook.stem)
        fresh = (
            old is not None
            and old.get("status") in ("ok", "unchanged")
            and old.get("input_sha256") == digest
            and (folder / f"{notebook.stem}.html").is_file()
        )
        if fresh and not force:
            unchanged[notebook.stem] = NotebookRun(**{**old, "status": "unchanged"})
        else:
            todo.append((notebook, parameters, digest))
    return todo, unchanged


def _check_only(studies: Sequence[Study], only: Sequence[str] | None) -> None:
    if not only:
        return
    known = {nb.stem for s in studies for nb in s.notebooks}
    for name in only:
        if name.removesuffix(".ipynb") not in known:
            raise StudyError(f"--only: no notebook {name!r} in the studies ({sorted(known)})")


def run_study(
    studies: str | os.PathLike | Sequence[str | os.PathLike],
    out: str | os.PathLike = "reports",
    *,
    with_code: bool = False,
    only: Sequence[str] | None = None,
    jobs: int = 1,
    force: bool = False,
) -> list[NotebookRun]:
    """Execute the studies' notebooks with papermill and publish HTML reports.

    Every study file is checked before any notebook runs. Each notebook runs in a
    fresh kernel with progress bars off, into a staging folder inside ``out``;
    its executed copy and HTML are moved into ``out/<study>/`` when it ends, and
    ``index.html`` and ``manifest.json`` are rewritten. A failing notebook keeps
    its executed copy (with the failing cell), is marked failed, and the others
    go on. A notebook whose inputs (notebook, parameters, study file, data
    hashes, transitmile's source) match the last successful run is not run
    again unless ``force``.

    Parameters
    ----------
    studies : path or list of paths
        Study YAML files.
    out : path
        Report folder; each study writes ``out/<study>/``.
    with_code : bool
        Show the code cells in the HTML.
    only : list of str, optional
        Run only these notebooks (names without ``.ipynb``).
    jobs : int
        Notebooks executed at once (separate processes).
    force : bool
        Run notebooks whose inputs are unchanged too.

    Returns
    -------
    list of NotebookRun
        One per notebook, in study order.

    Raises
    ------
    StudyError
        A study file is invalid, ``only`` names an unknown notebook, or
        ``jobs`` is below 1; raised before any notebook runs.
    """
    paths = [studies] if isinstance(studies, str | os.PathLike) else list(studies)
    if not paths:
        raise StudyError("run: give at least one study file")
    if jobs < 1:
        raise StudyError(f"--jobs must be at least 1, got {show_value(jobs)}")
    loaded = [read_study(p) for p in paths]
    names = [s.name for s in loaded]
    if len(set(names)) != len(names):
        raise StudyError(f"run: two study files share the study name in {names}")
    only = [n.removesuffix(".ipynb") for n in only] if only else None
    _check_only(loaded, only)
    out = Path(out).expanduser().resolve()
    results: list[NotebookRun] = []
    with _batch_environment():
        for study in loaded:
            results.extend(_run_one_study(study, out, only, with_code, jobs, force))
    return results


def _run_one_study(
    study: Study, out: Path, only: Sequence[str] | None, with_code: bool, jobs: int, force: bool
) -> list[NotebookRun]:
    folder = out / study.name
    folder.mkdir(parents=True, exist_ok=True)
    for leftover in folder.glob(".staging-*"):  # from an interrupted run
        shutil.rmtree(leftover, ignore_errors=True)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    todo, runs = _plan(study, folder, only, with_code, force)
    previous = _load_manifest(folder)
    for name, old in previous.items():  # notebooks not asked for this time keep their entry
        if name not in runs and name not in {nb.stem for nb, _, _ in todo}:
            runs.setdefault(name, NotebookRun(**old))
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    tasks = [
        _Task(study.name, nb, staging, params, with_code, digest) for nb, params, digest in todo
    ]
    digests = {t.notebook.stem: t.input_sha256 for t in tasks}
    try:
        for outcome in _execute_all(tasks, jobs):
            name = outcome["notebook"]
            for suffix in (".ipynb", ".html"):
                if (staging / f"{name}{suffix}").is_file():
                    os.replace(staging / f"{name}{suffix}", folder / f"{name}{suffix}")
            runs[name] = NotebookRun(
                study=study.name, notebook=name, status=outcome["status"],
                seconds=outcome["seconds"],
                ran_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                error=outcome["error"], html=f"{name}.html", ipynb=f"{name}.ipynb",
                input_sha256=digests[name], records=outcome["records"],
            )  # fmt: skip
            _publish(folder, study, _in_study_order(study, runs), started)
        _publish(folder, study, _in_study_order(study, runs), started)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    asked = [nb.stem for nb in study.notebooks if not only or nb.stem in only]
    return [runs[name] for name in asked if name in runs]


def _in_study_order(study: Study, runs: dict[str, NotebookRun]) -> dict[str, NotebookRun]:
    order = [nb.stem for nb in study.notebooks]
    return {n: runs[n] for n in order if n in runs}


def _execute_all(tasks: list[_Task], jobs: int) -> Iterator[dict[str, Any]]:
    if jobs == 1 or len(tasks) <= 1:
        for task in tasks:
            yield _execute(task)
        return
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = [pool.submit(_execute, task) for task in tasks]
        for future in concurrent.futures.as_completed(futures):
            yield future.result()


# ---------------------------------------------------------------------------
# The index page

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 62rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.8rem; text-align: left;
         vertical-align: top; }
.ok, .unchanged { color: #1e7b34; } .failed { color: #b0261b; font-weight: bold; }
code { font-size: 0.9em; }
"""


def _rows(pairs: Sequence[tuple[str, object]]) -> str:
    return "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in pairs
    )


def _figure(value: str | int | float) -> str:
    """Print a key figure readably: thousands separated, small numbers to 3 digits."""
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _figures(records: dict[str, Any]) -> str:
    shown = [(k, v) for k, v in records.items() if isinstance(v, str | int | float)]
    return "<br>".join(f"{html.escape(k)}: {html.escape(_figure(v))}" for k, v in shown[:8])


def _notebook_rows(runs: Sequence[NotebookRun]) -> str:
    rows = []
    for run in runs:
        label = {"unchanged": "ok (unchanged, not re-run)"}.get(run.status, run.status)
        error = f"<br><code>{html.escape(run.error)}</code>" if run.error else ""
        rows.append(
            f"<tr><td><a href='{html.escape(run.html)}'>{html.escape(run.notebook)}</a></td>"
            f"<td class='{run.status}'>{html.escape(label)}{error}</td>"
            f"<td>{run.seconds:.1f} s</td><td>{html.escape(run.ran_at)}</td>"
            f"<td><a href='{html.escape(run.ipynb)}'>executed notebook</a></td>"
            f"<td>{_figures(run.records)}</td></tr>"
        )
    return "".join(rows)


def _index_html(study: Study, runs: Sequence[NotebookRun], started: str) -> str:
    """Write the study's index page: links to the reports and how they were made."""
    engines = sorted({str(r.records["engine"]) for r in runs if "engine" in r.records})
    failed = [r.notebook for r in runs if r.status == "failed"]
    verdict = f"{len(failed)} failed: {', '.join(failed)}" if failed else "all notebooks ran"
    run_pairs = [
        ("study file", study.path),
        ("service date", study.date.isoformat()),
        ("time window", study.window),
        ("engine requested", study.engine),
        ("engine used", ", ".join(engines) or "recorded by no notebook"),
        ("run started", started),
        ("total run time", f"{sum(r.seconds for r in runs if r.status != 'unchanged'):.1f} s"),
        ("status", verdict),
    ]
    parameter_pairs = [(k, v) for k, v in study.notebook_parameters().items() if k != "study_file"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{html.escape(study.name)}: transitmile study</title><style>{_STYLE}</style></head>
<body>
<h1>Study {html.escape(study.name)}</h1>
<table>{_rows(run_pairs)}</table>
<h2>Reports</h2>
<table><tr><th>notebook</th><th>status</th><th>run time</th><th>finished (UTC)</th>
<th>source</th><th>key figures</th></tr>{_notebook_rows(runs)}</table>
<h2>Parameters</h2>
<table>{_rows(parameter_pairs)}</table>
<h2>Data (sha256, checked by the catalog)</h2>
<table>{_rows(list(data_hashes(study.dataset).items()))}</table>
<h2>Package versions</h2>
<table>{_rows(list(package_versions().items()))}</table>
</body></html>
"""


def summary_lines(runs: Sequence[NotebookRun], out: str | os.PathLike) -> list[str]:
    """One line per notebook and where the indexes are, for the command line.

    Parameters
    ----------
    runs : list of NotebookRun
        From :func:`run_study`.
    out : path
        The report folder given to :func:`run_study`.

    Returns
    -------
    list of str
    """
    lines = []
    for run in runs:
        detail = f"  {run.error}" if run.error else ""
        lines.append(f"{run.status:>9}  {run.study}/{run.notebook}  {run.seconds:.1f} s{detail}")
    for study in dict.fromkeys(r.study for r in runs):
        lines.append(f"index: {Path(out).expanduser().resolve() / study / 'index.html'}")
    failed = sum(r.status == "failed" for r in runs)
    if failed:
        lines.append(f"{failed} of {len(runs)} notebooks failed")
    return lines
