"""Take the README's screenshots from the real UI: the sample through `f1-pipeline run` into
a scratch data root and Dagster home, a Dagster webserver over them, headless Chromium
(Debian's `chromium` package). Usage: .venv/bin/python docs/screenshots.py"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PORT = 3999
SHOTS = {  # file: (page, window size)
    "season-stats-overview.png": ("assets/results/season_stats?view=overview", "1440,1300"),
    "partition-2024.png": (
        "assets/results/season_stats?view=partitions&partition=2024",
        "1440,1700",
    ),
    "lineage.png": ("assets/results/season_stats?view=lineage&lineageScope=upstream", "1440,700"),
}


def main() -> None:
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("needs headless Chromium: apt-get install chromium")
    scratch = Path(tempfile.mkdtemp(prefix="f1-shots-"))
    shutil.copytree(REPO / "data" / "source-data", scratch / "data" / "source-data")
    url = f"http://127.0.0.1:{PORT}"
    env = {**os.environ, "DAGSTER_HOME": str(scratch / "home"),
           "F1_DATA_ROOT": str(scratch / "data"), "F1_DAGSTER_URL": url}  # fmt: skip
    subprocess.run([str(BIN / "f1-pipeline"), "run"], env=env, check=True)
    server = subprocess.Popen(
        [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(PORT), "-w",
         str(REPO / "workspace.yaml")],
        env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        for name, (page, size) in SHOTS.items():
            out = REPO / "docs" / "images" / name
            subprocess.run(
                [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                 f"--window-size={size}", "--virtual-time-budget=20000",
                 f"--screenshot={out}", f"{url}/{page}"],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            print(f"wrote {out.relative_to(REPO)}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
