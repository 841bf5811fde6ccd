"""How long `hospital --help` takes, against the bare interpreter started the same way (goal: under 1 s).

Run: python bench/cli_start.py [--rounds 5]

Each round starts fresh processes, interleaved: `python -c pass` (the floor no command can beat) and
`python -m hospital --help`; and, for the figure that used to dominate, a process that imports the canonical-JSON
module and checks one payload (RX-05: a 16-deep typed msgspec decoder used to take seconds at import; the check
now decodes untyped and walks the value). Before these changes `hospital --help` took 4 to 10 s here.
Wall time of each process, best of the rounds (the machine is shared). The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

GOAL_S = 1.0

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "hospital --help": [sys.executable, "-m", "hospital", "--help"],
    "first canonical check": [sys.executable, "-c",
                              "from hospital.signing.canonical import parse_canonical; parse_canonical(b'{\"a\":1}')"],
}


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    best = {name: float("inf") for name in COMMANDS}
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            best[name] = min(best[name], wall(command))
    for name, seconds in best.items():
        print(f"{name:24s} {seconds * 1000:8.0f} ms")
    figures = {
        "python_pass_s": round(best["python -c pass"], 3),
        "hospital_help_s": round(best["hospital --help"], 3),
        "first_canonical_check_s": round(best["first canonical check"], 3),
        "help_vs_bare_interpreter": round(best["hospital --help"] / best["python -c pass"], 1),
        "goal_s": GOAL_S,
        "meets_goal": best["hospital --help"] < GOAL_S,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
