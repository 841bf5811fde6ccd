"""App replicas on loopback behind Debian's nginx, rendered from deploy/nginx/hospital.conf: shared by
bench/api_load.py and the replica test (tests/integration/operations/test_replicas.py). Not a benchmark itself.

`replicas(...)` starts `hospital serve` (or `demo`) processes on free ports, all on one database and one data
directory (the blob store and the token-signing key, as the compose file's shared volume); `media_workers(...)`
starts `hospital media-worker` processes beside them (`MEDIA_ENV` turns the replicas' routing to them on and
shares the signing secret; start the replicas first, they migrate); `nginx(...)` serves
the deploy configuration with its upstream servers pointed at them, TLS with a self-signed certificate made
here. Both stop their processes when the block ends.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NGINX_CONF = REPO / "deploy" / "nginx" / "hospital.conf"

__all__ = ["MEDIA_ENV", "Edge", "Replica", "free_port", "media_workers", "nginx", "nginx_binary", "replicas",
           "wait_until_ready"]

# The replicas and the workers alike: calls go to media workers, signed with this (test-only) secret; a worker's
# lease is short so a killed one is replaced within seconds.
MEDIA_ENV = {"HOSPITAL_MEDIA_WORKERS": "1", "HOSPITAL_MEDIA_SECRET": "cluster-media-secret-of-32-bytes-or-more",
             "HOSPITAL_MEDIA_HEARTBEAT": "1", "HOSPITAL_MEDIA_LEASE": "4"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """Killed at once (SIGKILL): no shutdown, as a crashed node."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)


def wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 180,
                     context: ssl.SSLContext | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not become ready (exit {process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)


def _stop(started: list[Replica]) -> None:
    for replica in started:
        if replica.process.poll() is None:
            replica.process.terminate()
    for replica in started:
        try:
            replica.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            replica.process.kill()


@contextmanager
def replicas(database_url: str, data_dir: Path, *, count: int = 2, first_command: str = "serve",
             env: dict[str, str] | None = None) -> Iterator[list[Replica]]:
    """`count` replicas named app-1 … app-N; the first runs `first_command` (`demo` seeds the demo)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    started: list[Replica] = []
    base_env = {**os.environ, "HOSPITAL_DATABASE_URL": database_url, "HOSPITAL_DATA_DIR": str(data_dir),
                "PYTHONPATH": str(REPO), "HOSPITAL_FACE_WORKERS": "1", **(env or {})}
    try:
        for n in range(1, count + 1):
            name, port = f"app-{n}", free_port()
            log = data_dir / f"{name}.log"
            command = first_command if n == 1 else "serve"
            process = subprocess.Popen(
                [sys.executable, "-m", "hospital", command, "--host", "127.0.0.1", "--port", str(port)], cwd=REPO,
                env={**base_env, "HOSPITAL_REPLICA": name}, stdout=log.open("wb"), stderr=subprocess.STDOUT)
            started.append(Replica(name, port, process, log))
        for replica in started:
            wait_until_ready(f"http://127.0.0.1:{replica.port}/ready", replica.process, replica.log)
        yield started
    finally:
        _stop(started)


@contextmanager
def media_workers(database_url: str, data_dir: Path, *, count: int = 2,
                  env: dict[str, str] | None = None) -> Iterator[list[Replica]]:
    """`count` media workers named media-1 … media-N (`hospital media-worker`), registered once ready."""
    started: list[Replica] = []
    base_env = {**os.environ, "HOSPITAL_DATABASE_URL": database_url, "HOSPITAL_DATA_DIR": str(data_dir),
                "PYTHONPATH": str(REPO), "HOSPITAL_FACE_WORKERS": "1", **MEDIA_ENV, **(env or {})}
    try:
        for n in range(1, count + 1):
            name, port = f"media-{n}", free_port()
            log = data_dir / f"{name}.log"
            process = subprocess.Popen(
                [sys.executable, "-m", "hospital", "media-worker", "--host", "127.0.0.1", "--port", str(port)],
                cwd=REPO, env={**base_env, "HOSPITAL_MEDIA_WORKER_ID": name}, stdout=log.open("wb"),
                stderr=subprocess.STDOUT)
            started.append(Replica(name, port, process, log))
        for worker in started:
            wait_until_ready(f"http://127.0.0.1:{worker.port}/ready", worker.process, worker.log)
        yield started
    finally:
        _stop(started)


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise RuntimeError("nginx is not installed: bash scripts/ensure-nginx.sh (Debian's nginx-light)")
    return found


def _self_signed(folder: Path) -> Path:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    return folder / "fullchain.pem"


def render(conf: str, ports: list[int], listen: int, tls: Path) -> str:
    """deploy/nginx/hospital.conf for loopback: the upstream servers at `ports`, TLS on `listen`, no port 80."""
    for n, port in enumerate(ports, start=1):
        conf = conf.replace(f"server app-{n}:8000", f"server 127.0.0.1:{port}")
    conf = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", conf, flags=re.S)
    conf = conf.replace("listen 443 ssl", f"listen 127.0.0.1:{listen} ssl")
    return conf.replace("/etc/nginx/tls/", f"{tls}/")


@dataclass
class Edge:
    url: str
    ssl_context: ssl.SSLContext
    process: subprocess.Popen[bytes]


@contextmanager
def nginx(ports: list[int], folder: Path) -> Iterator[Edge]:
    folder.mkdir(parents=True, exist_ok=True)
    cert = _self_signed(folder)
    listen = free_port()
    (folder / "hospital.conf").write_text(render(NGINX_CONF.read_text(), ports, listen, folder))
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(f"    {kind}_temp_path {folder}/{kind};\n" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                            "scgi"))
    (folder / "nginx.conf").write_text(
        f"{user}worker_processes 2;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
        f"events {{ worker_connections 4096; }}\n"
        f"http {{\n    access_log off;\n{temp}    include {folder}/hospital.conf;\n}}\n")
    log = folder / "nginx.out"
    with ExitStack() as stack:
        process = subprocess.Popen([nginx_binary(), "-p", str(folder), "-c", str(folder / "nginx.conf"), "-g",
                                    "daemon off;"], stdout=log.open("wb"), stderr=subprocess.STDOUT)
        stack.callback(process.wait, timeout=30)  # callbacks run last-in first-out: terminate, then wait
        stack.callback(process.terminate)
        context = ssl.create_default_context(cafile=str(cert))
        url = f"https://127.0.0.1:{listen}"
        wait_until_ready(url + "/health", process, log, timeout=30, context=context)
        yield Edge(url, context, process)
