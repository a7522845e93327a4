"""A real headless Chromium driven over the Chrome DevTools Protocol (no WebDriver).

Used by the report tests: open a published HTML page as a reader would, with every
request to the internet blocked (reports must read off line), and collect what a
person would notice: script errors, console errors, local resources that failed,
images and the visible text.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websocket

#: Names of the Chromium executable, Debian's first.
EXECUTABLES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Path of a Chromium executable on PATH (or ``TRANSITMILE_CHROMIUM``), else None."""
    explicit = os.environ.get("TRANSITMILE_CHROMIUM")
    if explicit:
        return explicit
    for name in EXECUTABLES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageReport:
    """What loading one page showed."""

    url: str
    exceptions: list[str] = field(default_factory=list)  # uncaught script errors
    console_errors: list[str] = field(default_factory=list)  # console.error and error logs
    failed_local: list[str] = field(default_factory=list)  # file:/data: resources that failed
    blocked_external: list[str] = field(default_factory=list)  # internet requests blocked
    images: list[dict] = field(default_factory=list)  # src head, natural and shown size
    text: str = ""  # the page's visible text
    frames_text: list[str] = field(default_factory=list)  # visible text of each iframe


_IMAGES_JS = """JSON.stringify(Array.from(document.images).map(i => {
  const r = i.getBoundingClientRect();
  return {src: i.src.slice(0, 40), complete: i.complete, natural_width: i.naturalWidth,
          natural_height: i.naturalHeight, width: r.width, height: r.height};
}))"""

_FRAMES_JS = """JSON.stringify(Array.from(document.querySelectorAll('iframe')).map(
  f => (f.contentDocument && f.contentDocument.body) ? f.contentDocument.body.innerText : null))"""


class Chromium:
    """One headless Chromium with one page, driven over a DevTools websocket."""

    def __init__(self, executable: str):
        self.profile = tempfile.mkdtemp(prefix="tm-chromium-")
        self.process = subprocess.Popen(
            [
                executable, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
                "--remote-debugging-port=0", "--remote-allow-origins=*",
                f"--user-data-dir={self.profile}", "--window-size=1280,1000", "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        port = self._port()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as answer:
            pages = [t for t in json.load(answer) if t["type"] == "page"]
        self.socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60)
        self._next_id = 0
        self.events: list[dict] = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call("Network.setBlockedURLs", urls=["http://*", "https://*"])

    def _port(self) -> int:
        marker = Path(self.profile) / "DevToolsActivePort"
        for _ in range(600):  # Chromium writes the port once it listens
            if marker.is_file() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with code {self.process.returncode}")
            time.sleep(0.05)
        raise RuntimeError("chromium did not open its DevTools port")

    def call(self, method: str, **params) -> dict:
        """Send one DevTools command and return its result, keeping events seen meanwhile."""
        self._next_id += 1
        self.socket.send(json.dumps({"id": self._next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def _wait_for(self, method: str) -> None:
        while not any(e.get("method") == method for e in self.events):
            self.events.append(json.loads(self.socket.recv()))

    def evaluate(self, expression: str):
        """Value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    def load(self, path: Path) -> PageReport:
        """Open a local HTML file, wait for it (and its frames) to load, report what it showed."""
        self.events = []
        url = path.resolve().as_uri()
        self.call("Page.navigate", url=url)
        self._wait_for("Page.loadEventFired")
        self.evaluate("new Promise(r => setTimeout(r, 300))")  # let frame scripts settle
        report = PageReport(url=url)
        self._sort_events(report)
        report.images = json.loads(self.evaluate(_IMAGES_JS))
        report.text = self.evaluate("document.body.innerText")
        report.frames_text = json.loads(self.evaluate(_FRAMES_JS))
        return report

    def _sort_events(self, report: PageReport) -> None:
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                report.exceptions.append(
                    details.get("exception", {}).get("description") or details.get("text", "")
                )
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                report.console_errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                entry = params["entry"]
                if entry.get("url", "").startswith(("http://", "https://")):
                    report.blocked_external.append(entry["url"])
                elif entry.get("source") == "network":
                    report.failed_local.append(f"{entry.get('url')}: {entry['text']}")
                else:
                    report.console_errors.append(entry["text"])

    def close(self) -> None:
        """Stop the browser and remove its profile."""
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)
