"""Pruning TinyConv: single weights by magnitude (masks), or whole conv channels (a smaller model).

Unstructured: the smallest-magnitude conv and fc weights, the same share of each layer or ranked
together (biases untouched); ranking single weights by |w| is the same under any norm. The zeros
stay in the dense tensors here; the code generator stores a pruned fc sparse where that is smaller
(``kws codegen --weights auto``, model.deploy.codegen.sparse).

Structured: conv filters ranked by a norm of their weights (L1 by default, the study's choice;
L2 or L-infinity, ``NORMS``); the kept filters and the fc input columns they feed make a TinyConv
with fewer channels, which is what shrinks the weights,
the activations and the MACs (``kws size`` measures it, the code generator builds it).
"""

from __future__ import annotations

import torch

from model.compress import NORMS
from model.train.tinyconv import TinyConv, conv_output_shape

PRUNABLE = ("conv.weight", "fc.weight")


SCOPES = ("layer", "global")


def _smallest(magnitudes: torch.Tensor, drop: int) -> torch.Tensor:
    """A 0/1 keep mask of ``magnitudes`` without its ``drop`` smallest (ties in order of position)."""
    keep = torch.ones(len(magnitudes))
    keep[torch.argsort(magnitudes, stable=True)[:drop]] = 0
    return keep


def magnitude_masks(model: TinyConv, sparsity: float, scope: str = "layer") -> dict[str, torch.Tensor]:
    """Masks (1 = kept) zeroing the ``sparsity`` fraction of smallest-magnitude weights: of each of
    conv and fc (``scope="layer"``), or of both ranked together (``"global"``, which on TinyConv
    takes more from the 640 conv weights than from the 16,000 fc ones, and costs more accuracy)."""
    if not 0 <= sparsity < 1:
        raise ValueError(f"sparsity is a fraction in [0, 1), not {sparsity}")
    if scope not in SCOPES:
        raise ValueError(f"pruning scope is one of {', '.join(SCOPES)}, not {scope!r}")
    params = {name: p.detach() for name, p in model.named_parameters() if name in PRUNABLE}
    if scope == "layer":
        return {
            name: _smallest(p.abs().flatten(), round(sparsity * p.numel())).reshape(p.shape)
            for name, p in params.items()
        }
    magnitudes = torch.cat([p.abs().flatten() for p in params.values()])
    keep = _smallest(magnitudes, round(sparsity * len(magnitudes)))
    masks, offset = {}, 0
    for name, p in params.items():
        masks[name] = keep[offset : offset + p.numel()].reshape(p.shape)
        offset += p.numel()
    return masks


def apply_masks(model: TinyConv, masks: dict[str, torch.Tensor]) -> None:
    """Zero the masked weights in place (after every fine-tuning step, too)."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, mask in masks.items():
            params[name].mul_(mask)


def channel_ranking(model: TinyConv, norm: str = "l1") -> list[int]:
    """Conv channels from most to least important: the ``norm`` (``NORMS``) of each filter's weights,
    ties in channel order."""
    if norm not in NORMS:
        raise ValueError(f"filter norm is one of {', '.join(NORMS)}, not {norm!r}")
    filters = model.conv.weight.detach().abs().flatten(1)
    norms = {"l1": filters.sum(1), "l2": filters.square().sum(1).sqrt(), "linf": filters.amax(1)}[norm]
    return torch.argsort(norms, descending=True, stable=True).tolist()


def prune_channels(model: TinyConv, keep: int, norm: str = "l1") -> TinyConv:
    """A TinyConv of the ``keep`` strongest conv channels of ``model`` by ``norm`` (in their original order)
    and the fc columns they feed; it computes exactly what ``model`` computes with the other
    channels' filters and biases set to zero."""
    if not 1 <= keep <= model.channels:
        raise ValueError(f"can keep 1 to {model.channels} channels, not {keep}")
    kept = sorted(channel_ranking(model, norm)[:keep])
    smaller = TinyConv(keep, num_classes=model.fc.out_features, dropout=model.dropout.p)
    out_t, out_f = conv_output_shape()
    with torch.no_grad():
        smaller.conv.weight.copy_(model.conv.weight[kept])
        smaller.conv.bias.copy_(model.conv.bias[kept])
        columns = model.fc.weight.reshape(model.fc.out_features, model.channels, out_t, out_f)[:, kept]
        smaller.fc.weight.copy_(columns.reshape(model.fc.out_features, -1))
        smaller.fc.bias.copy_(model.fc.bias)
    smaller.train(model.training)
    return smaller
