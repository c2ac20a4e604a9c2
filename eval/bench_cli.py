"""Start-up time of the ``dfazoo`` command, measured as whole processes.

The commands that do not train (``list``, ``info``, ``--help``, errors) must answer in at most
1.5 s: they read the zoo index (``dfazoo/zoo/index.json``) and never import torch. Each command
runs ``--runs`` times as a fresh ``python -m dfazoo.cli`` process; the table gives the median
and the slowest wall time, beside ``python -c "import torch"`` for scale. Writes
eval/results/bench_cli.json and .md.

    python eval/bench_cli.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
TARGET_S = 1.5
COMMANDS: dict[str, list[str]] = {
    "dfazoo --help": ["-m", "dfazoo.cli", "--help"],
    "dfazoo list": ["-m", "dfazoo.cli", "list"],
    "dfazoo list --domain graph --method dfa": [
        "-m",
        "dfazoo.cli",
        "list",
        "--domain",
        "graph",
        "--method",
        "dfa",
    ],
    "dfazoo info gcn-cora-dfa": ["-m", "dfazoo.cli", "info", "gcn-cora-dfa"],
    "dfazoo info no-such-id (error)": ["-m", "dfazoo.cli", "info", "no-such-id"],
    "dfazoo train --help": ["-m", "dfazoo.cli", "train", "--help"],
}
REFERENCE = {'python -c "import torch" (for scale)': ["-c", "import torch"]}


def time_process(args: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, *args], capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="processes per command")
    args = parser.parse_args(argv)
    rows = []
    for name, cmd in {**COMMANDS, **REFERENCE}.items():
        times = time_process(cmd, args.runs)
        quick = name in COMMANDS
        rows.append(
            {
                "command": name,
                "median_s": statistics.median(times),
                "max_s": max(times),
                "target_s": TARGET_S if quick else None,
                "meets_target": max(times) <= TARGET_S if quick else None,
            }
        )
        print(f"{name}: median {rows[-1]['median_s']:.2f} s, max {rows[-1]['max_s']:.2f} s", flush=True)
    result = {
        "runs": args.runs,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_cli.json").write_text(json.dumps(result, indent=2) + "\n")
    md = [
        "# Command-line start-up time (whole processes)",
        "",
        f"Produced by `python eval/bench_cli.py --runs {args.runs}` on {platform.machine()}, Python "
        f"{platform.python_version()}: each command run {args.runs} times as a fresh process. Target: at most "
        f"{TARGET_S} s for the commands that do not train.",
        "",
        "| command | median (s) | slowest (s) | within 1.5 s |",
        "|---|---|---|---|",
    ]
    for r in rows:
        verdict = "—" if r["meets_target"] is None else ("yes" if r["meets_target"] else "NO")
        md.append(f"| `{r['command']}` | {r['median_s']:.2f} | {r['max_s']:.2f} | {verdict} |")
    (RESULTS / "bench_cli.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return result


if __name__ == "__main__":
    main()
