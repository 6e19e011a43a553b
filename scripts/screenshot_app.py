"""Screenshot a page of the running review app in headless Chromium.

``chromium --headless --screenshot`` fires as soon as the HTML has loaded, when a
Streamlit page is still a grey skeleton waiting for its websocket. This script
drives Chromium over the DevTools protocol instead (with tornado's websocket
client, which Streamlit already depends on): it opens the page, waits until the
given text is on it and the skeleton is gone, then captures the window.

``--demo`` does everything for the documentation's screenshot: it stores the
sample recording (with its true transcript, analysed) and a Russian transcript in
a temporary database, starts ``streamlit run app.py`` on a free loopback port,
captures the recording's page and stops the server.

Usage:
    python scripts/screenshot_app.py --demo OUT.png [--click TAB]
    python scripts/screenshot_app.py URL OUT.png [--wait-for TEXT] [--click TAB] [--width 1400] [--height 1000]

Example:
    python scripts/screenshot_app.py --demo docs/app.png

Exit code 0 with the PNG written; 2 when no Chromium is installed; 1 on a timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[1]

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_READY_JS = """(() => {
  const text = document.body ? document.body.innerText : "";
  const skeleton = document.querySelector('[data-testid="stSkeleton"], [data-testid="stAppSkeleton"]');
  const running = document.querySelector('[data-testid="stStatusWidget"]');
  return text.includes(%s) && !skeleton && !running;
})()"""


def _stop(proc: subprocess.Popen, wait_s: float) -> None:
    """Terminate a child process, killing it if it does not exit within ``wait_s``."""
    proc.terminate()
    try:
        proc.wait(wait_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()

def find_chromium() -> str | None:
    """The path of an installed Chromium or Chrome, or ``None``."""
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _devtools_port(profile: Path, proc: subprocess.Popen, timeout_s: float) -> int:
    marker = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if marker.exists():
            first = marker.read_text().splitlines()[:1]
            if first and first[0].isdigit():
                return int(first[0])
        if proc.poll() is not None:
            raise RuntimeError(f"chromium exited with code {proc.returncode}")
        time.sleep(0.05)
    raise TimeoutError("chromium did not open its DevTools port")


_CLICK_JS = """(() => {
  const want = %s;
  const el = [...document.querySelectorAll('button, [role="tab"]')].find(e => e.innerText.trim() === want);
  if (el) { el.click(); return true; }
  return false;
})()"""


async def _capture(ws_url: str, url: str, wait_for: str, width: int, height: int, timeout_s: float,
                   click: str | None = None) -> tuple[bytes, str]:
    from tornado.websocket import websocket_connect

    conn = await websocket_connect(ws_url, max_message_size=256 * 2**20)
    counter = 0

    async def call(method: str, **params):
        nonlocal counter
        counter += 1
        conn.write_message(json.dumps({"id": counter, "method": method, "params": params}))
        while True:
            message = await conn.read_message()
            if message is None:
                raise RuntimeError("DevTools connection closed")
            data = json.loads(message)
            if data.get("id") == counter:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return data.get("result", {})

    await call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
    await call("Page.enable")
    await call("Page.navigate", url=url)
    deadline = time.monotonic() + timeout_s
    expression = _READY_JS % json.dumps(wait_for)
    ready_since = None
    while True:
        result = await call("Runtime.evaluate", expression=expression, returnByValue=True)
        ready = bool(result.get("result", {}).get("value"))
        now = time.monotonic()
        if ready:
            ready_since = ready_since or now
            if now - ready_since >= 1.0:  # stable for a second: fonts, charts and fragments have drawn
                break
        else:
            ready_since = None
        if now > deadline:
            raise TimeoutError(f"{wait_for!r} did not appear on {url} within {timeout_s:g} s")
        await asyncio.sleep(0.2)
    if click:
        result = await call("Runtime.evaluate", expression=_CLICK_JS % json.dumps(click), returnByValue=True)
        if not result.get("result", {}).get("value"):
            raise RuntimeError(f"nothing to click labelled {click!r}")
        await asyncio.sleep(1.5)
    shot = await call("Page.captureScreenshot", format="png")
    text = await call("Runtime.evaluate", expression="document.body.innerText", returnByValue=True)
    conn.close()
    return base64.b64decode(shot["data"]), str(text.get("result", {}).get("value", ""))


def screenshot(url: str, out: str | os.PathLike[str], *, wait_for: str = "", width: int = 1400, height: int = 1000,
               timeout_s: float = 60.0, click: str | None = None, chromium: str | None = None,
               text: list[str] | None = None) -> Path:
    """Open ``url`` in headless Chromium, wait for ``wait_for``, write a PNG to ``out``.

    ``click`` names a button or tab to click (by its exact text) before the capture;
    ``text``, when given, receives the page's visible text.

    Raises:
        FileNotFoundError: no Chromium is installed.
        TimeoutError: the page did not show ``wait_for`` in time.
    """
    binary = chromium or find_chromium()
    if binary is None:
        raise FileNotFoundError("no chromium found; install the Debian package 'chromium'")
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="screenshot-chromium-") as profile:
        args = [binary, "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                "--disable-extensions", "--disable-dev-shm-usage", "--remote-debugging-port=0",
                f"--user-data-dir={profile}", f"--window-size={width},{height}", "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port = _devtools_port(Path(profile), proc, 30)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as response:
                pages = [t for t in json.load(response) if t.get("type") == "page"]
            png, page_text = asyncio.run(_capture(pages[0]["webSocketDebuggerUrl"], url, wait_for, width, height, timeout_s,
                                       click))
        finally:
            _stop(proc, 10)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(png)
    if text is not None:
        text.append(page_text)
    return out


def build_demo_db(db: str | os.PathLike[str]) -> int:
    """Store two analysed sample interviews (one with its recording) and a few decisions.

    Returns:
        The id of the interview with the recording.
    """
    sys.path.insert(0, str(REPO))
    from analyzer.pipeline import analyze_transcript
    from analyzer.store import Flag, Store
    from analyzer.transcripts import read_transcript, transcript_from_dict

    store = Store(db)
    ru = read_transcript(REPO / "sample_data" / "dev" / "ru_strong_zoom.vtt")
    store.save_analysis(REPO / "sample_data" / "dev" / "ru_strong_zoom.vtt", ru, analyze_transcript(ru),
                        role="Аккаунт-менеджер", interview_date="2026-11-20")
    data = json.loads((REPO / "sample_data" / "sample_interview_en.truth.json").read_text(encoding="utf-8"))
    for turn in data["turns"]:
        turn["speaker"] = turn["role"].title()
    transcript = transcript_from_dict(data)
    report = analyze_transcript(transcript, language="en")
    iid = store.save_analysis(REPO / "sample_data" / "sample_interview_en.ogg", transcript, report,
                              candidate="Sample candidate", role="Account manager", interview_date="2026-11-24")
    rid = store.latest_report(iid).id
    flags = [(q, s) for q in report.questions for s in q.signals]
    for (q, s), verdict in zip(flags, ("confirm", "confirm", "reject")):
        store.set_decision(rid, Flag(q.index, s.signal, s.rule_id, s.start_char, s.end_char), verdict,
                           reviewer="demo", text=s.text)
    return iid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_app(db: str | os.PathLike[str], *, port: int | None = None, timeout_s: float = 90.0) -> Iterator[str]:
    """Run ``streamlit run app.py`` on a loopback port with database ``db``; yield its URL.

    Raises:
        TimeoutError: the server did not answer its health check in time.
    """
    port = port or free_port()
    env = {**os.environ, "INTERVIEW_ANALYZER_DB": str(db)}
    env.pop("INTERVIEW_ANALYZER_PASSWORD", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"), "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with code {proc.returncode}: {proc.stdout.read()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"streamlit did not start on {url} within {timeout_s:g} s")
            time.sleep(0.2)
        yield url
    finally:
        _stop(proc, 15)
        proc.stdout.close()


def demo_screenshot(out: str | os.PathLike[str], *, click: str | None = None, width: int = 1400,
                    height: int = 1100) -> Path:
    """Build the demo database, serve the app and capture the recording's page."""
    with tempfile.TemporaryDirectory(prefix="app-demo-") as folder:
        db = Path(folder) / "interviews.db"
        iid = build_demo_db(db)
        with serve_app(db) as url:
            return screenshot(f"{url}/?interview={iid}", out, wait_for="Competencies", width=width, height=height,
                              click=click)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", action="store_true", help="serve a demo database and capture it")
    parser.add_argument("url", nargs="?")
    parser.add_argument("out", nargs="?")
    parser.add_argument("--wait-for", default="", help="text that must be on the page before the capture")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the page")
    parser.add_argument("--click", help="exact text of a button or tab to click before the capture")
    args = parser.parse_args(argv)
    if args.demo and args.out is None:  # --demo OUT.png
        args.out, args.url = args.url, None
    if args.out is None or (args.url is None and not args.demo):
        parser.error("give URL OUT.png, or --demo OUT.png")
    try:
        if args.demo:
            path = demo_screenshot(args.out, click=args.click, width=args.width, height=args.height)
        else:
            path = screenshot(args.url, args.out, wait_for=args.wait_for, width=args.width, height=args.height,
                              timeout_s=args.timeout, click=args.click)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (TimeoutError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {path} ({path.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
