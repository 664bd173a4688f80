"""TinyConv, the model under study, and its checkpoint format.

Conv2d(1→C, 10x8, stride 2, padding (5,3)) → ReLU → Dropout(0.5) → Linear(C·25·20 → 4).
With C = 8 that is 16,652 parameters. C is a parameter so that pruned variants (fewer conv
filters, matching fc columns removed) are the same class.

Input: micro-frontend features, uint16 (frames x channels) = (49, 40), scaled by 10/256 to
floats of roughly 0-26 as in TensorFlow's micro_speech training, shaped (N, 1, 49, 40).
"""

from __future__ import annotations

import io
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from model import config
from model.atomic import atomic_write_bytes
from model.errors import BadInput

#: Features are uint16 frontend outputs; the model sees ``feature * INPUT_SCALE``.
INPUT_SCALE = 10 / 256
KERNEL = (10, 8)
STRIDE = (2, 2)
PADDING = (5, 3)
CHECKPOINT_FORMAT = "kws-tinyconv/1"


def conv_output_shape(frames: int = config.NUM_FRAMES, channels: int = config.NUM_CHANNELS) -> tuple[int, int]:
    """(time, frequency) size of the conv output: (25, 20) for 49x40 features."""
    return tuple(  # type: ignore[return-value]
        (size + 2 * pad - kernel) // stride + 1
        for size, pad, kernel, stride in zip((frames, channels), PADDING, KERNEL, STRIDE, strict=True)
    )


class TinyConv(nn.Module):
    def __init__(self, channels: int = 8, num_classes: int = len(config.LABELS), dropout: float = 0.5) -> None:
        super().__init__()
        if channels < 1:
            raise ValueError(f"channels must be at least 1, not {channels}")
        self.channels = channels
        self.conv = nn.Conv2d(1, channels, KERNEL, stride=STRIDE, padding=PADDING)
        self.dropout = nn.Dropout(dropout)
        out_t, out_f = conv_output_shape()
        self.fc = nn.Linear(channels * out_t * out_f, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 1, 49, 40) scaled features → (N, classes) logits."""
        x = torch.relu(self.conv(x))
        x = self.dropout(x)
        return self.fc(x.flatten(1))


def to_input(features: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint16 features of shape (49, 40) or (N, 49, 40) → float32 model input (N, 1, 49, 40)."""
    x = torch.as_tensor(np.asarray(features, dtype=np.float32))
    if x.dim() == 2:
        x = x.unsqueeze(0)
    if tuple(x.shape[1:]) != (config.NUM_FRAMES, config.NUM_CHANNELS):
        raise ValueError(f"features must be (N, {config.NUM_FRAMES}, {config.NUM_CHANNELS}), not {tuple(x.shape)}")
    return (x * INPUT_SCALE).unsqueeze(1)


def save_checkpoint(path: Path, model: TinyConv, train_config: dict[str, Any], **extra: Any) -> None:
    """Write ``model.pt``: weights plus what is needed to rebuild and interpret the model.

    ``extra`` holds plain values such as the step and validation accuracy of a best checkpoint.
    """
    payload = {
        "format": CHECKPOINT_FORMAT,
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "channels": model.channels,
        "labels": list(config.LABELS),
        "input_scale": INPUT_SCALE,
        "input_shape": [config.NUM_FRAMES, config.NUM_CHANNELS],
        "train_config": dict(train_config),
        **extra,
    }
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    atomic_write_bytes(Path(path), buffer.getvalue())


def _unreadable(exc: Exception) -> str:
    """Why torch.load refused a file, in the user's terms rather than the unpickler's."""
    if isinstance(exc, pickle.UnpicklingError) and "Weights only load failed" in str(exc):
        return "not a TinyConv checkpoint: torch's safe loader refused it (not only tensors and plain values)"
    first = next(iter(str(exc).strip().splitlines()), "")[:100]
    return f"not a TinyConv checkpoint: unreadable ({type(exc).__name__}{': ' + first if first else ''})"


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The raw checkpoint dictionary; ``BadInput`` if the file is missing or not a checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(path, "no such checkpoint file")
    try:
        with warnings.catch_warnings():  # the unpickler's warnings about odd files would add lines
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load reports damaged bytes through almost any exception type
        raise BadInput(path, _unreadable(exc)) from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise BadInput(path, f"not a TinyConv checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    return payload


def load_checkpoint(path: Path) -> tuple[TinyConv, dict[str, Any]]:
    """Rebuild the model of a checkpoint (in eval mode) and return it with the checkpoint dictionary."""
    payload = read_checkpoint(path)
    if payload.get("labels") != list(config.LABELS):
        raise BadInput(path, f"labels {payload.get('labels')} do not match this project's {list(config.LABELS)}")
    if payload.get("input_scale") != INPUT_SCALE or payload.get("input_shape") != [
        config.NUM_FRAMES,
        config.NUM_CHANNELS,
    ]:
        raise BadInput(path, "input scaling or shape differs from this project's features")
    channels = payload.get("channels")
    if not isinstance(channels, int) or channels < 1:
        raise BadInput(path, f"invalid channel count {channels!r}")
    model = TinyConv(channels)
    try:
        model.load_state_dict(payload["state_dict"])
    except (RuntimeError, KeyError, TypeError) as exc:
        first = str(exc).strip().splitlines()
        reason = first[1].strip() if len(first) > 1 else (first[0] if first else type(exc).__name__)
        raise BadInput(path, f"weights do not fit TinyConv with {channels} channels: {reason}") from None
    model.eval()
    return model, payload
