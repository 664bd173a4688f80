"""Pruning (model.prune): magnitude masks remove exactly the smallest weights; channel pruning
builds a smaller TinyConv that computes what the full one does with those channels zeroed."""

from __future__ import annotations

import numpy as np
import pytest
import test_export

torch = pytest.importorskip("torch")

from model.compress.prune import PRUNABLE, apply_masks, channel_ranking, magnitude_masks, prune_channels  # noqa: E402
from model.train.size import model_size  # noqa: E402
from model.train.tinyconv import to_input  # noqa: E402


@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.9])
def test_masks_drop_the_smallest_weights_of_each_layer(sparsity: float) -> None:
    model = test_export.tinyconv(8)
    masks = magnitude_masks(model, sparsity)
    for name, p in model.named_parameters():
        if name in PRUNABLE:
            kept = masks[name].bool()
            assert int((~kept).sum()) == round(sparsity * p.numel())
            if sparsity:
                assert float(p.detach().abs()[~kept].max()) <= float(p.detach().abs()[kept].min())


@pytest.mark.parametrize("sparsity", [0.0, 0.5, 0.9])
def test_masks_drop_the_smallest_weights_globally(sparsity: float) -> None:
    model = test_export.tinyconv(8)
    masks = magnitude_masks(model, sparsity, scope="global")
    params = dict(model.named_parameters())
    weights = torch.cat([params[n].detach().abs().flatten() for n in PRUNABLE])
    kept = torch.cat([masks[n].flatten() for n in PRUNABLE]).bool()
    assert int((~kept).sum()) == round(sparsity * len(weights))
    if sparsity:
        assert float(weights[~kept].max()) <= float(weights[kept].min())
    apply_masks(model, masks)
    assert int(sum((params[n] == 0).sum() for n in PRUNABLE)) == int((~kept).sum())
    assert float(model.fc.bias.detach().abs().sum()) > 0  # biases are not pruned


def test_sparsity_and_scope_are_checked() -> None:
    with pytest.raises(ValueError, match="sparsity is a fraction"):
        magnitude_masks(test_export.tinyconv(2), 1.0)
    with pytest.raises(ValueError, match="pruning scope is one of layer, global, not 'model'"):
        magnitude_masks(test_export.tinyconv(2), 0.5, scope="model")


@pytest.mark.parametrize("keep", [1, 3, 7])
def test_channel_pruning_equals_zeroing_the_weakest_channels(keep: int) -> None:
    model = test_export.tinyconv(8, seed=keep)
    smaller = prune_channels(model, keep)
    dropped = channel_ranking(model)[keep:]
    zeroed = prune_channels(model, 8)  # a copy
    with torch.no_grad():
        zeroed.conv.weight[dropped] = 0
        zeroed.conv.bias[dropped] = 0
    x = to_input(test_export.realistic_features(np.random.default_rng(keep), 20))
    with torch.no_grad():
        assert torch.allclose(smaller(x), zeroed(x), atol=1e-5)
    assert smaller.channels == keep
    assert model_size(smaller)["params"] == keep * (10 * 8 + 1) + 4 * keep * 25 * 20 + 4


def test_ranking_is_by_the_l1_norm_of_each_filter() -> None:
    model = test_export.tinyconv(4)
    with torch.no_grad():
        for channel, scale in enumerate((0.5, 3.0, 1.0, 2.0)):
            model.conv.weight[channel] = scale / 80
    assert channel_ranking(model) == [1, 3, 2, 0]
    with pytest.raises(ValueError, match="can keep 1 to 4 channels, not 5"):
        prune_channels(model, 5)


def test_the_norms_rank_differently_where_they_should() -> None:
    """Channel 0: one large weight (largest L-inf); channel 1: many small ones; channel 2: a few
    middling ones (largest L1 and L2); channel 3: zero. Each norm orders them differently."""
    model = test_export.tinyconv(4)
    with torch.no_grad():
        model.conv.weight.zero_()
        model.conv.weight[0].view(-1)[0] = 1.0  # L1 1, L2 1, Linf 1
        model.conv.weight[1].view(-1)[:80] = 0.02  # L1 1.6, L2 0.179, Linf 0.02
        model.conv.weight[2].view(-1)[:4] = 0.6  # L1 2.4, L2 1.2, Linf 0.6
    assert channel_ranking(model, "l1") == [2, 1, 0, 3]
    assert channel_ranking(model, "l2") == [2, 0, 1, 3]
    assert channel_ranking(model, "linf") == [0, 2, 1, 3]
    with pytest.raises(ValueError, match="filter norm is one of l1, l2, linf, not 'l3'"):
        channel_ranking(model, "l3")
    assert prune_channels(model, 1, "linf").conv.weight.abs().max() == 1.0
    assert float(prune_channels(model, 1, "l1").conv.weight.abs().max()) == pytest.approx(0.6)
