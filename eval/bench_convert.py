"""What ``dfazoo.convert`` costs: a converted model's DFA step against BP and against the same
network written by hand with dfazoo's feedback points, timed in one interleaved run.

- CIFAR MLP (3072-800-800-800-10 tanh, batch 128): ``dfazoo.vision.MLP`` in dfa mode (the
  hand-written one), the same layers as a plain ``nn.Sequential`` converted (dfa), and the
  converted one in bp mode. Target: converted DFA <= 1.03 x hand-written DFA.
- Hugging Face GPT-2 (4 x d256, T128, batch 8; when ``transformers`` is installed): converted
  macro and micro DFA against BP; DFA skips the blocks' input-gradient matmuls.

Same protocol as ``eval/bench_core.py`` (2 threads, SGD, median of interleaved steps, the repeat
with the median ratio shown, every repeat's ratio listed). Writes eval/results/bench_convert.json
and .md.

    python eval/bench_convert.py [--steps 40] [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from bench_core import _step, interleave, step_flops
from torch import nn

from dfazoo.core import convert
from dfazoo.vision import MLP

RESULTS = Path(__file__).parent / "results"
TARGET = 1.03


def _plain_mlp(ref: MLP) -> nn.Sequential:
    """``ref``'s layers without feedback points (a user's own model), with its weights."""
    linears = [m for m in ref.body if isinstance(m, nn.Linear)] + [ref.head]
    layers: list[nn.Module] = []
    for i, lin in enumerate(linears):
        copy = nn.Linear(lin.in_features, lin.out_features)
        copy.load_state_dict(lin.state_dict())
        layers += [copy] if i == len(linears) - 1 else [copy, nn.Tanh()]
    return nn.Sequential(*layers)


def mlp_models() -> tuple[dict[str, nn.Module], Callable]:
    torch.manual_seed(0)
    ref = MLP(3072, [800, 800, 800], 10, activation="tanh", method="dfa")
    x = torch.randn(128, 3072)
    models = {
        "handwritten_dfa": ref,
        "converted_dfa": convert(_plain_mlp(ref), x, method="dfa"),
        "converted_bp": convert(_plain_mlp(ref), x, method="bp"),
    }
    return models, lambda: (torch.randn(128, 3072), torch.randint(0, 10, (128,)))


def gpt2_models() -> tuple[dict[str, nn.Module], Callable] | None:
    try:
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError:
        return None
    config = GPT2Config(
        vocab_size=2048, n_positions=128, n_embd=256, n_layer=4, n_head=4, bos_token_id=0, eos_token_id=0
    )
    config.attn_pdrop = config.resid_pdrop = config.embd_pdrop = 0.0
    x = torch.randint(0, 2048, (8, 128))
    models = {}
    for name, method, placement in (
        ("bp", "bp", "macro"),
        ("dfa_macro", "dfa", "macro"),
        ("dfa_micro", "dfa", "micro"),
    ):
        torch.manual_seed(0)
        models[name] = convert(GPT2LMHeadModel(config), x, placement=placement, method=method)
    return models, lambda: (torch.randint(0, 2048, (8, 128)), torch.randint(0, 2048, (8, 128)))


def _lm_step(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    return _step(_Logits(model), opt, x, y)


class _Logits(nn.Module):
    """Calls a Hugging Face LM and returns its logits, for bench_core's step."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=x).logits


def time_models(
    models: dict[str, nn.Module], batch_fn: Callable, stepper: Callable, steps: int, repeats: int
) -> list[dict[str, Any]]:
    opts = {m: torch.optim.SGD(model.parameters(), lr=1e-3) for m, model in models.items()}
    steppers = dict.fromkeys(models, stepper)
    return [interleave(models, opts, steppers, batch_fn, steps) for _ in range(repeats)]


def _median_repeat(timings: list[dict[str, Any]], num: str, den: str) -> dict[str, Any]:
    ratios = sorted(t[f"{num}_ms"] / t[f"{den}_ms"] for t in timings)
    chosen = sorted(timings, key=lambda t: t[f"{num}_ms"] / t[f"{den}_ms"])[len(timings) // 2]
    return {**chosen, "ratio": chosen[f"{num}_ms"] / chosen[f"{den}_ms"], "repeat_ratios": ratios}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="5 steps, 1 repeat, for a smoke run")
    args = parser.parse_args(argv)
    steps, repeats = (5, 1) if args.quick else (max(args.steps, 30), max(args.repeats, 1))
    torch.set_num_threads(2)
    result: dict[str, Any] = {
        "command": "python eval/bench_convert.py"
        + (" --quick" if args.quick else f" --steps {steps} --repeats {repeats}"),
        "machine": {
            "threads": torch.get_num_threads(),
            "processor": platform.processor(),
            "torch": torch.__version__,
        },
    }
    print("timing the CIFAR MLP ...", flush=True)
    models, batch_fn = mlp_models()
    x, y = batch_fn()
    flops = {m: step_flops(model, x, y) for m, model in models.items()}
    timings = time_models(models, batch_fn, _step, steps, repeats)
    result["mlp"] = {
        "model": "mlp 3072-800-800-800-10 tanh, batch 128",
        "flop_ratio": flops["converted_dfa"] / flops["converted_bp"],
        "converted_vs_handwritten": _median_repeat(timings, "converted_dfa", "handwritten_dfa"),
        "dfa_vs_bp": _median_repeat(timings, "converted_dfa", "converted_bp"),
        "target": TARGET,
    }
    result["mlp"]["meets_target"] = result["mlp"]["converted_vs_handwritten"]["ratio"] <= TARGET
    gpt2 = gpt2_models()
    if gpt2 is not None:
        print("timing GPT-2 ...", flush=True)
        models, batch_fn = gpt2
        x, y = batch_fn()
        flops = {m: step_flops(_Logits(model), x, y) for m, model in models.items()}
        timings = time_models(models, batch_fn, _lm_step, steps, repeats)
        result["gpt2"] = {
            "model": "transformers GPT-2, 4 x d256, vocab 2048, T128, batch 8",
            "flop_ratio": {m: flops[m] / flops["bp"] for m in ("dfa_macro", "dfa_micro")},
            "macro_vs_bp": _median_repeat(timings, "dfa_macro", "bp"),
            "micro_vs_bp": _median_repeat(timings, "dfa_micro", "bp"),
        }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_convert.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "bench_convert.md").write_text(render(result))
    print(render(result))
    return result


def render(result: dict) -> str:
    mlp = result["mlp"]
    cvh, dvb = mlp["converted_vs_handwritten"], mlp["dfa_vs_bp"]
    lines = [
        "# dfazoo.convert: converted-model step time",
        "",
        f"Command: `{result['command']}` (torch {result['machine']['torch']}, {result['machine']['threads']} "
        "threads, SGD, median ms of interleaved steps; the repeat with the median ratio is shown, every "
        "repeat's ratio listed). The machine is shared with other jobs, so repeats differ by up to ~15%: "
        "the every-repeat column shows the spread.",
        "",
        "| model | step | ms/step | ratio | every repeat | DFA/BP FLOPs | target | met |",
        "|---|---|---|---|---|---|---|---|",
        f"| {mlp['model']} | hand-written `vision.MLP`, DFA | {cvh['handwritten_dfa_ms']:.1f} | 1 | | | | |",
        f"| | converted `nn.Sequential`, DFA | {cvh['converted_dfa_ms']:.1f} | {cvh['ratio']:.3f} x hand-written | "
        f"{', '.join(f'{r:.3f}' for r in cvh['repeat_ratios'])} | | <= {mlp['target']} | "
        f"{'yes' if mlp['meets_target'] else '**no**'} |",
        f"| | converted, BP | {dvb['converted_bp_ms']:.1f} | DFA/BP {dvb['ratio']:.3f} | "
        f"{', '.join(f'{r:.3f}' for r in dvb['repeat_ratios'])} | {mlp['flop_ratio']:.3f} | | |",
    ]
    if "gpt2" in result:
        gpt2 = result["gpt2"]
        macro, micro = gpt2["macro_vs_bp"], gpt2["micro_vs_bp"]
        lines += [
            f"| {gpt2['model']} | converted, BP | {macro['bp_ms']:.1f} | 1 | | | | |",
            f"| | converted macro, DFA | {macro['dfa_macro_ms']:.1f} | DFA/BP {macro['ratio']:.3f} | "
            f"{', '.join(f'{r:.3f}' for r in macro['repeat_ratios'])} | {gpt2['flop_ratio']['dfa_macro']:.3f} | | |",
            f"| | converted micro, DFA | {micro['dfa_micro_ms']:.1f} | DFA/BP {micro['ratio']:.3f} | "
            f"{', '.join(f'{r:.3f}' for r in micro['repeat_ratios'])} | {gpt2['flop_ratio']['dfa_micro']:.3f} | | |",
        ]
    else:
        lines += ["", "GPT-2 rows: `transformers` is not installed (`pip install -e '.[transformers]'`)."]
    lines += [
        "",
        "The converted models run the same engine as the hand-written one (one shared matrix, one "
        "autograd node, detached points); the difference is the cost of the forward hooks. DFA saves in "
        "the backward only: the input-gradient matmuls between feedback points are never computed. DFA/BP "
        "FLOPs: one forward + backward counted by `torch.utils.flop_counter`. GPT-2's blocks open with an "
        "affine LayerNorm, whose gain needs the gradient at the first projection's input, so in macro "
        "DFA that matmul is still computed (dfazoo's own `TransformerLM` uses non-affine norms for this "
        "reason); micro also detaches the MLP activation.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
