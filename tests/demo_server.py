"""`hospital demo` as a real server on a free loopback port, for the browser tests (SQLite in a temporary
data directory); stopped when the block ends."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

REPO = Path(__file__).resolve().parents[1]

__all__ = ["demo_server", "free_port"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def demo_server(data_dir: Path, env: dict[str, str], *, probe: str = "/ready", start_timeout: float = 120,
                stop_timeout: float = 20) -> Iterator[str]:
    """Serve the demo with `env` added to this process's environment; yield its URL once `probe` answers 200
    (`/ready`: the demo is seeded in the background after `/health` answers)."""
    port = free_port()
    full_env = {**os.environ, "HOSPITAL_DATA_DIR": str(data_dir), "HOSPITAL_ENV": "demo", "PYTHONPATH": str(REPO),
                **env}
    full_env.pop("HOSPITAL_DATABASE_URL", None)
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen([sys.executable, "-m", "hospital", "demo", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the hospital did not start (exit {server.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{url}{probe}", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
