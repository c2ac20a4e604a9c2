"""Generation speed of a Transformer LM with and without the key/value cache (tokens per second).

    python eval/bench_generate.py [--source ID_OR_FOLDER] [--tokens 120] [--repeats 3] [--threads 2]

Without ``--source`` it times a freshly initialised model of the zoo's size (dfazoo/nlp/recipes.py:
speed does not depend on the weights). Greedy decoding from a one-token prompt, so both paths
produce the same tokens; the uncached path re-runs the whole context at every token. Writes
``eval/results/bench_generate.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from dfazoo.nlp import TransformerLM
from dfazoo.nlp.generate import generate_ids
from dfazoo.nlp.recipes import ARCH

RESULTS = Path(__file__).resolve().parent / "results"


def tokens_per_second(model: TransformerLM, tokens: int, use_cache: bool, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = list(generate_ids(model, [0], tokens, temperature=0, use_cache=use_cache))
        times.append(time.perf_counter() - start)
        assert len(out) == tokens
    return tokens / statistics.median(times)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="zoo id or model folder (default: the zoo size, random weights)")
    parser.add_argument("--tokens", type=int, default=120, help="new tokens per generation (<= context)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.source:
        from dfazoo.zoo.hub import from_pretrained

        model, name = from_pretrained(args.source), args.source
    else:
        torch.manual_seed(0)
        model, name = TransformerLM(**ARCH), "zoo size, random weights"
    cached = tokens_per_second(model, args.tokens, True, args.repeats)
    uncached = tokens_per_second(model, args.tokens, False, args.repeats)
    result = {
        "model": name,
        "config": model.get_config(),
        "new_tokens": args.tokens,
        "threads": args.threads,
        "tokens_per_s_cached": cached,
        "tokens_per_s_uncached": uncached,
        "speedup": cached / uncached,
        "machine": platform.processor() or platform.machine(),
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "bench_generate.json").write_text(json.dumps(result, indent=1) + "\n")
    cmd = "python eval/bench_generate.py" + (f" --source {args.source}" if args.source else "")
    md = (
        "# Generation speed: key/value cache against none\n\n"
        f"Produced by `{cmd} --tokens {args.tokens} --repeats {args.repeats} --threads {args.threads}` "
        f"({name}; greedy, {args.tokens} new tokens, median of {args.repeats}, shared 2-core machine).\n\n"
        "| path | tokens/s |\n|---|---|\n"
        f"| with KV cache | {cached:.0f} |\n| without | {uncached:.0f} |\n\nSpeed-up: {cached / uncached:.2f}x\n"
    )
    (args.results / "bench_generate.md").write_text(md)
    print(md)
    return result


if __name__ == "__main__":
    main()
