"""One small training loop that the module notebooks share.

The notebooks write the model and the loss (that is the lesson); this loop does
the rest: shuffled mini-batches from a seeded generator, an optimiser step, a
``tqdm`` progress bar, a loss history, optional early stopping on a validation
loss and a generous time budget that catches runaway training.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import torch
from tqdm.auto import tqdm

Batch = tuple[torch.Tensor, ...]
LossFn = Callable[[torch.nn.Module, Batch], torch.Tensor]


@dataclass
class History:
    """What happened during :func:`fit`: one entry per epoch."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False
    out_of_time: bool = False

    @property
    def epochs(self) -> int:
        return len(self.train_loss)


def batches(data: Sequence[torch.Tensor], batch_size: int, generator: torch.Generator | None = None,
            shuffle: bool = True) -> Iterator[Batch]:
    """Yield tuples of aligned mini-batches from equally long tensors."""
    if not data:
        raise ValueError("batches() needs at least one tensor")
    n = len(data[0])
    if any(len(t) != n for t in data):
        raise ValueError(f"all tensors must have the same length, got {[len(t) for t in data]}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        idx = order[start : start + batch_size]
        yield tuple(t[idx] for t in data)


def fit(
    model: torch.nn.Module,
    loss_fn: LossFn,
    train: Sequence[torch.Tensor] | torch.Tensor,
    *,
    epochs: int,
    lr: float = 1e-3,
    batch_size: int = 64,
    val: Sequence[torch.Tensor] | torch.Tensor | None = None,
    patience: int | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    seed: int = 0,
    time_budget: float = 120.0,
    desc: str = "training",
    progress: bool = True,
) -> History:
    """Train ``model`` by minimising ``loss_fn(model, batch)`` with Adam (or ``optimizer``).

    ``train`` (and ``val``) is a tensor or a tuple of equally long tensors; each batch
    passed to ``loss_fn`` is a tuple. With ``val`` and ``patience``, training stops
    once the validation loss has not improved for ``patience`` epochs, and the model
    keeps the weights of its best epoch. ``time_budget`` (seconds) is a safety net,
    not a tuning knob: results that depend on it would depend on the machine.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be positive, got {epochs}")
    if patience is not None and val is None:
        raise ValueError("early stopping (patience) needs validation data (val)")
    train_t = (train,) if isinstance(train, torch.Tensor) else tuple(train)
    val_t = None if val is None else ((val,) if isinstance(val, torch.Tensor) else tuple(val))
    opt = optimizer or torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    history = History()
    best_val, best_state, waited = float("inf"), None, 0
    start = time.perf_counter()
    bar = tqdm(range(epochs), desc=desc, disable=not progress, leave=True)
    for _ in bar:
        model.train()
        total, count = 0.0, 0
        for batch in batches(train_t, batch_size, gen):
            loss = loss_fn(model, batch)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"the loss became {loss.item()} in epoch {history.epochs + 1}: "
                    "try a smaller learning rate, or check the loss function for log(0)"
                )
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(batch[0])
            count += len(batch[0])
        history.train_loss.append(total / count)
        postfix = {"loss": f"{history.train_loss[-1]:.4f}"}
        if val_t is not None:
            history.val_loss.append(evaluate(model, loss_fn, val_t, batch_size=max(batch_size, 256)))
            postfix["val"] = f"{history.val_loss[-1]:.4f}"
            if history.val_loss[-1] < best_val - 1e-6:
                best_val, waited = history.val_loss[-1], 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                waited += 1
        bar.set_postfix(postfix)
        if patience is not None and waited >= patience:
            history.stopped_early = True
            break
        if time.perf_counter() - start > time_budget:
            history.out_of_time = True
            print(f"Stopped after {history.epochs} epochs: the time budget of {time_budget:.0f} s ran out.")
            break
    bar.close()
    if patience is not None and best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history.seconds = time.perf_counter() - start
    return history


@torch.no_grad()
def evaluate(model: torch.nn.Module, loss_fn: LossFn, data: Sequence[torch.Tensor] | torch.Tensor,
             batch_size: int = 256) -> float:
    """The mean of ``loss_fn`` over ``data`` (weighted by batch size), without gradients."""
    data_t = (data,) if isinstance(data, torch.Tensor) else tuple(data)
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for batch in batches(data_t, batch_size, shuffle=False):
        total += loss_fn(model, batch).item() * len(batch[0])
        count += len(batch[0])
    model.train(was_training)
    return total / count
