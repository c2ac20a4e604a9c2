"""The benchmark's hand-written DFA step is a true DFA step: same update as dfazoo's engine."""

from __future__ import annotations

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
