"""Data-parallel training under ``torchrun``: gloo on CPU, nccl on GPU.

Every rank builds the model from the same recipe seed, so the feedback matrix (a buffer drawn
from that seed) is identical everywhere; :func:`wrap_model` checks it. Every rank draws the
same batches from the same data generator and keeps its own contiguous slice of each
(:func:`shard_batch`, or the whole batch when it cannot be split evenly); DDP then averages
the gradients, which equals training on the whole batch when the loss is a mean. DFA's
hidden-layer gradients come out of ordinary autograd, so DDP's all-reduce sees them like any
other gradient. In ``shallow`` mode the hidden layers get no gradient at all, hence
``find_unused_parameters``. With ``error_reduction="sum"`` the core scales the DFA error by
the per-rank batch size times the world size, so it stays the sum over the global batch.
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def device(self) -> torch.device:
        if self.enabled and torch.cuda.is_available():
            return torch.device("cuda", self.local_rank)
        return torch.device("cpu")


def init_distributed() -> DistInfo:
    """Join the process group described by torchrun's env vars; single process otherwise."""
    if dist.is_available() and dist.is_initialized():
        return DistInfo(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", 0)))
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    if world_size <= 1:
        return DistInfo()
    info = DistInfo(int(os.environ["RANK"]), world_size, int(os.environ.get("LOCAL_RANK", 0)))
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(info.local_rank)
    dist.init_process_group(backend, init_method="env://")
    return info


def check_same_feedback(model: nn.Module) -> None:
    """Raise if any rank holds a different feedback matrix than rank 0."""
    for name, buffer in model.named_buffers():
        if not name.endswith("feedback.matrix"):
            continue
        reference = buffer.detach().clone()
        dist.broadcast(reference, src=0)
        same = torch.tensor(int(torch.equal(reference, buffer)), device=buffer.device)
        dist.all_reduce(same, op=dist.ReduceOp.MIN)
        if not same.item():
            raise RuntimeError(
                f"rank {dist.get_rank()}: feedback matrix {name!r} differs between ranks; build the "
                f"model from the same recipe seed on every rank"
            )


def wrap_model(model: nn.Module, info: DistInfo) -> nn.Module:
    """``model`` itself on one process, else a DistributedDataParallel wrapper around it."""
    if not info.enabled:
        return model
    check_same_feedback(model)
    shallow = getattr(model, "method", None) == "shallow"
    device_ids = [info.local_rank] if info.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids, find_unused_parameters=shallow)


def unwrap_model(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, DistributedDataParallel) else model


def _leading_dims(batch: Any) -> set[int]:
    if isinstance(batch, torch.Tensor):
        return {batch.shape[0]} if batch.dim() else set()
    if isinstance(batch, dict):
        batch = list(batch.values())
    if isinstance(batch, (tuple, list)):
        return set().union(*(_leading_dims(v) for v in batch))
    return set()


def _split(batch: Any, rank: int, world_size: int) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.tensor_split(world_size)[rank] if batch.dim() else batch
    if isinstance(batch, dict):
        return {k: _split(v, rank, world_size) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        parts = [_split(v, rank, world_size) for v in batch]
        return type(batch)(*parts) if hasattr(batch, "_fields") else type(batch)(parts)
    return batch


def shard_batch(batch: Any, rank: int, world_size: int) -> Any:
    """This rank's contiguous slice (along dim 0) of every tensor in a (nested) batch.

    Tensors, tuples (named too), lists and dicts are split when all their tensors share one
    leading size divisible by ``world_size``, so that the mean of the ranks' mean losses is the
    batch's mean loss. Any other batch (a graph object, mixed sizes, a short last batch) is
    processed whole by every rank: the averaged gradient is then still the batch's gradient.
    """
    sizes = _leading_dims(batch)
    if world_size == 1 or len(sizes) != 1 or next(iter(sizes)) % world_size:
        return batch
    return _split(batch, rank, world_size)


def barrier(info: DistInfo) -> None:
    if info.enabled:
        dist.barrier()


def shutdown_distributed() -> None:
    """Leave the process group cleanly: wait for every rank, then destroy it.

    A rank that exits while its gloo group is still alive (or while a peer is mid-collective)
    can abort in the group's C++ destructor at interpreter exit ("terminate called without an
    active exception"). Collecting garbage first frees DDP wrappers caught in reference cycles,
    which hold the group.
    """
    if not (dist.is_available() and dist.is_initialized()):
        return
    gc.collect()
    dist.barrier()
    dist.destroy_process_group()
