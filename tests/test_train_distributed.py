"""DDP: two gloo ranks on 127.0.0.1 train exactly like one process on the combined batch."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import namedtuple

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from dfazoo.train.checkpoint import load_checkpoint
from dfazoo.train.distributed import (
    DistInfo,
    init_distributed,
    shard_batch,
    shutdown_distributed,
    wrap_model,
)


def test_shard_batch_splits_every_tensor_along_the_first_dim():
    pair = namedtuple("Pair", "x y")
    batch = {
        "x": torch.arange(12).reshape(6, 2),
        "pair": pair(torch.arange(6), "label"),
        "scale": torch.tensor(2.0),
    }
    first, second = shard_batch(batch, 0, 2), shard_batch(batch, 1, 2)
    assert torch.equal(torch.cat([first["x"], second["x"]]), batch["x"])
    assert first["pair"].x.tolist() == [0, 1, 2] and second["pair"].x.tolist() == [3, 4, 5]
    assert first["pair"].y == "label" and first["scale"] is batch["scale"]
    assert shard_batch(batch, 0, 1) is batch


def test_shard_batch_keeps_uneven_or_mixed_batches_whole():
    odd = (torch.arange(5), torch.arange(5))
    mixed = {"nodes": torch.zeros(6, 3), "mask": torch.ones(4, dtype=torch.bool)}
    assert shard_batch(odd, 1, 2) is odd and shard_batch(mixed, 0, 2) is mixed
    graph = object()
    assert shard_batch(graph, 1, 2) is graph


def test_single_process_leaves_the_model_unwrapped():
    model = torch.nn.Linear(2, 2)
    assert wrap_model(model, DistInfo()) is model
    shutdown_distributed()  # no group: a no-op, not an error
    assert not torch.distributed.is_initialized()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


VARIANTS = {
    "dfa": ("dfa", "mean"),
    "shallow": ("shallow", "mean"),
    "dfa-sum": ("dfa", "sum"),
    "converted-dfa": ("dfa", "mean"),  # a plain nn.Sequential through dfazoo.convert
}


def _train(run_dir, variant: str, init_seed: int = 0) -> set[int]:
    """Train the tiny MLP for one epoch (4 SGD steps of 16 samples); return the batch sizes seen."""
    from test_train_trainer import SyntheticTask, tiny_recipe

    from dfazoo.train import Trainer
    from dfazoo.vision import MLP

    method, reduction = VARIANTS[variant]
    arch = {"in_features": 8, "hidden": [16, 16], "out_features": 3, "error_reduction": reduction}
    recipe = tiny_recipe(epochs=1, method=method, arch_config=arch)
    torch.manual_seed(init_seed)  # each rank draws other weights: DDP must broadcast rank 0's
    if variant.startswith("converted"):
        from dfazoo.core import convert

        layers = [nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)]
        model = convert(nn.Sequential(*layers), torch.zeros(2, 8), method=method)
    else:
        model = MLP(**recipe.model_kwargs())
    task = SyntheticTask(recipe)
    sizes = set()
    loss = task.loss
    task.loss = lambda model, batch: sizes.add(len(batch[0])) or loss(model, batch)
    Trainer(recipe, run_dir, model=model, task=task, progress=False).fit()
    return sizes


def _rank_main(rank: int, world_size: int, port: int, root: str) -> None:
    torch.set_num_threads(1)
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_RANK=str(rank),
    )
    from dfazoo.vision import MLP

    with pytest.raises(RuntimeError, match="feedback matrix 'feedback.matrix' differs between ranks"):
        wrap_model(MLP(8, [4], 3, seed=rank), init_distributed())
    for variant in VARIANTS:
        assert _train(os.path.join(root, f"ddp-{variant}"), variant, init_seed=rank) == {16 // world_size}
    shutdown_distributed()
    assert not torch.distributed.is_initialized()


def _spawn(fn, args: tuple, nprocs: int, timeout: float = 300.0) -> None:
    """``mp.spawn`` with a deadline, so a hung collective fails the test instead of the CI."""
    context = mp.start_processes(fn, args=args, nprocs=nprocs, join=False, start_method="spawn")
    deadline = time.monotonic() + timeout
    while not context.join(timeout=5):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"the {nprocs} ranks did not finish within {timeout:.0f} s")


@pytest.mark.integration
def test_two_gloo_ranks_match_one_process_on_the_combined_batch(tmp_path):
    _spawn(_rank_main, (2, _free_port(), str(tmp_path)), nprocs=2)
    for variant in VARIANTS:
        assert _train(tmp_path / f"single-{variant}", variant) == {16}
        ddp = load_checkpoint(tmp_path / f"ddp-{variant}" / "last.pt")
        single = load_checkpoint(tmp_path / f"single-{variant}" / "last.pt")
        assert ddp["step"] == single["step"] == 4
        assert all(torch.allclose(ddp["model"][k], single["model"][k], atol=1e-6) for k in single["model"])


@pytest.mark.integration
def test_torchrun_cli_trains_on_two_ranks_and_reports_once(tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    command += ["-m", "dfazoo.cli", "train", "mlp-digits-dfa", "--epochs", "1", "--run-dir", str(tmp_path)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count('"run_dir"') == 1  # rank 0 reports; rank 1 stays quiet
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 1
