"""Time from `hospital demo` starting to `/health` answering (goal: under 5 s), and to `/ready` (the demo seeded,
the face pool warm), on a fresh data directory (first start: migrations, the CA, the seed) and on a restart.

Run: python bench/demo_start.py [--rounds 2]

Each round starts real processes on a free loopback port with SQLite in a temporary data directory (the
production argon2 cost, one face worker); wall time from Popen to the first 200. Best of the rounds (the
machine is shared). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

GOAL_HEALTH_S = 5.0
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def one_start(data_dir: Path) -> tuple[float, float]:
    port = free_port()
    env = {**os.environ, "HOSPITAL_DATA_DIR": str(data_dir), "HOSPITAL_ENV": "demo", "PYTHONPATH": str(REPO)}
    env.pop("HOSPITAL_DATABASE_URL", None)
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    server = subprocess.Popen([sys.executable, "-m", "hospital", "demo", "--port", str(port)], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        health: float | None = None
        ready: float | None = None
        while ready is None:
            if server.poll() is not None or time.perf_counter() - started > 180:
                raise SystemExit(f"the demo did not start (exit {server.returncode})")
            if health is None and answers(base + "/health"):
                health = time.perf_counter() - started
            if health is not None and answers(base + "/ready"):
                ready = time.perf_counter() - started
            time.sleep(0.02)
        assert health is not None
        return health, ready
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    rounds = parser.parse_args().rounds
    best = {"first_health": float("inf"), "first_ready": float("inf"),
            "restart_health": float("inf"), "restart_ready": float("inf")}
    for _ in range(rounds):
        with tempfile.TemporaryDirectory() as data:
            health, ready = one_start(Path(data))
            best["first_health"], best["first_ready"] = min(best["first_health"], health), min(best["first_ready"], ready)
            health, ready = one_start(Path(data))
            best["restart_health"] = min(best["restart_health"], health)
            best["restart_ready"] = min(best["restart_ready"], ready)
    for name, seconds in best.items():
        print(f"{name:16s} {seconds:6.2f} s")
    figures = {f"{name}_s": round(seconds, 2) for name, seconds in best.items()}
    figures |= {"goal_health_s": GOAL_HEALTH_S, "meets_goal": best["first_health"] < GOAL_HEALTH_S}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
