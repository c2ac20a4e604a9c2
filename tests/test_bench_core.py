"""The benchmark's hand-written DFA step is a true DFA step: same update as dfazoo's engine."""

from __future__ import annotations

import json

import torch
from eval_scripts import load_eval_script

bench_core = load_eval_script("bench_core")


def test_handwritten_dfa_step_matches_the_engine():
    build, batch_fn = bench_core._mlp_case(48, [32, 24, 16], batch=8)
    engine, handwritten = build("dfa"), build("dfa")
    x, y = batch_fn()
    bench_core._step(engine, torch.optim.SGD(engine.parameters(), lr=0.5), x, y)
    feedback = list(handwritten.feedback_matrices().values())
    bench_core.handwritten_dfa_step(
        handwritten, torch.optim.SGD(handwritten.parameters(), lr=0.5), x, y, feedback
    )
    for (name, a), (_, b) in zip(engine.named_parameters(), handwritten.named_parameters()):
        torch.testing.assert_close(a, b, msg=f"{name} differs after one step")
    # Not vacuous: a BP step moves the lower layers differently.
    bp = build("bp")
    bench_core._step(bp, torch.optim.SGD(bp.parameters(), lr=0.5), x, y)
    assert not torch.allclose(bp.body[1].weight, engine.body[1].weight)


def test_bench_convert_times_the_same_network_and_update_by_hand_and_converted():
    bench_convert = load_eval_script("bench_convert")
    models, batch_fn = bench_convert.mlp_models()
    x, y = batch_fn()
    for name in ("handwritten_dfa", "converted_dfa"):
        bench_core._step(models[name], torch.optim.SGD(models[name].parameters(), lr=0.5), x, y)
    hand, conv = models["handwritten_dfa"], models["converted_dfa"]
    hand_linears = [m for m in hand.body if isinstance(m, torch.nn.Linear)] + [hand.head]
    conv_linears = [m for m in conv.module if isinstance(m, torch.nn.Linear)]
    for a, b in zip(hand_linears, conv_linears, strict=True):
        torch.testing.assert_close(a.weight, b.weight)
    assert models["converted_bp"].method == "bp"


def test_models_filter_keeps_the_other_rows_with_the_command_that_timed_them(tmp_path, monkeypatch):
    monkeypatch.setattr(bench_core, "RESULTS", tmp_path)
    row = {
        "model": "mlp old",
        "bp_ms": 2.0,
        "dfa_ms": 1.0,
        "ratio": 0.5,
        "repeat_ratios": [0.5],
        "flop_ratio": 0.5,
        "target": None,
        "meets_target": None,
    }
    old = {"command": "python eval/bench_core.py --steps 40 --repeats 5", "steps": [row]}
    (tmp_path / "bench_core.json").write_text(json.dumps(old))
    kept = bench_core._previous_rows()["mlp old"]
    assert kept["command"] == old["command"] and kept["ratio"] == 0.5
    new = {**row, "model": "zoo new", "command": "python eval/bench_core.py --models zoo"}
    result = {
        "command": new["command"],
        "machine": {"torch": "x", "threads": 2},
        "steps": [kept, new],
        "vgg16_imagenet_feedback_memory": {
            "one_matrix_per_layer_gib": 1.0,
            "unique_shared_matrix_gib": 0.5,
            "l_max": 10,
            "error_size": 10,
        },
    }
    text = bench_core.render(result)
    assert f"- mlp old: `{old['command']}`" in text and "- zoo new:" not in text
