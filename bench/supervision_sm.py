"""What encrypting and digesting a supervision upload costs, per engine (gmssl pure Python vs OpenSSL).

A request costs one SM4-CBC pass over the JSON and one SM3 pass over the hex ciphertext (twice its size),
plus the platform's decrypt on the other side. Run: PYTHONPATH=. /work/venv/bin/python bench/supervision_sm.py
"""

from __future__ import annotations

import json
import time

from connectors.supervision.gateway.envelope import dump_records
from connectors.supervision.gateway.sm import decrypt, encrypt, engines, sm3_hex
from connectors.supervision.simulator import examples

SECRET = "bbf1dd188b8b4629853f06f118d11e4a"


def batch(size: int) -> bytes:
    return dump_records([examples.prescription(f"RX-{n:05d}") for n in range(size)])


def seconds_per_request(payload: bytes, engine_name: str, repeat: int) -> float:
    engine = engines()[engine_name]
    start = time.perf_counter()
    for _ in range(repeat):
        body = encrypt(payload, SECRET, engine=engine)
        sm3_hex(body, engine=engine)
        decrypt(body, SECRET, engine=engine)
    return (time.perf_counter() - start) / repeat


def main() -> None:
    figures: dict[str, float] = {}
    for records, repeats in ((1, {"gmssl": 5, "openssl": 2000}), (50, {"gmssl": 1, "openssl": 200})):
        payload = batch(records)
        kib = len(payload) / 1024
        per = {name: seconds_per_request(payload, name, repeats[name]) for name in ("gmssl", "openssl")}
        for name, value in per.items():
            print(f"{records:>3} prescription(s), {kib:6.1f} KiB JSON, {name:>7}: {value * 1000:9.3f} ms "
                  f"(encrypt + SM3 of the hex + decrypt), {kib / 1024 / value:7.2f} MiB/s")
            figures[f"{name}_ms_{records}"] = round(value * 1000, 3)
        ratio = per["gmssl"] / per["openssl"]
        print(f"    openssl is {ratio:.0f}x faster")
        figures[f"openssl_speedup_{records}"] = round(ratio, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
