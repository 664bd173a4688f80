"""``kws export``: a TinyConv checkpoint as a TFLite flatbuffer, full-integer int8 or float32.

The TensorFlow graph reproduces PyTorch's semantics exactly rather than TF's own ``tiny_conv``:

- PyTorch pads 5 frames above and below and 3 channels left and right; TF's SAME would pad 4/5
  in time and shift every output row by one frame. The graph pads explicitly (a PAD op) and then
  runs a VALID convolution. In the int8 model PAD fills with the input zero point, i.e. real 0,
  exactly as PyTorch's zero padding.
- PyTorch flattens the conv output NCHW (channel-major), TFLite NHWC (channel-minor): the fc
  weight columns are permuted so that the same logits come out.
- A softmax ends the graph: the firmware's recognizer averages probabilities, and argmax (the
  accuracy) is unchanged.

With ``--weight-bits 4`` the int8 model's conv and fully-connected filters are rewritten as TFLite
INT4 tensors, two values per byte (:mod:`model.deploy.int4`); activations stay int8.

The int8 model takes int8 input and gives int8 output; its input quantization is the contract of
:mod:`model.deploy.quantization`. Accuracy on the test split is measured with ``tflite_micro`` (TFLM's
reference kernels, the firmware's golden reference), next to PyTorch's.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from model import config
from model.options import threads


def weight_bits(text: str) -> int:
    """--weight-bits: 8 or 4, the two widths TFLite stores integer filters in."""
    if text not in ("8", "4"):
        raise argparse.ArgumentTypeError(f"must be 8 or 4, got {text!r}")
    return int(text)


#: Representative examples the int8 converter calibrates activation ranges on.
REPRESENTATIVE_SAMPLES = 500


def tf_weights(model) -> dict[str, np.ndarray]:
    """TinyConv's parameters in TensorFlow layouts, fc columns permuted from NCHW to NHWC order."""
    from model.train.tinyconv import conv_output_shape

    out_t, out_f = conv_output_shape()
    conv_w = model.conv.weight.detach().cpu().numpy().astype(np.float32)  # (C, 1, kh, kw)
    fc_w = model.fc.weight.detach().cpu().numpy().astype(np.float32)  # (classes, C*T*F)
    channels = conv_w.shape[0]
    fc_nhwc = fc_w.reshape(-1, channels, out_t, out_f).transpose(0, 2, 3, 1).reshape(fc_w.shape[0], -1)
    return {
        "conv_w": conv_w.transpose(2, 3, 1, 0).copy(),  # (kh, kw, 1, C): HWIO
        "conv_b": model.conv.bias.detach().cpu().numpy().astype(np.float32),
        "fc_w": fc_nhwc.T.copy(),  # (C*T*F, classes)
        "fc_b": model.fc.bias.detach().cpu().numpy().astype(np.float32),
    }


def _concrete_function(model):
    import tensorflow as tf

    from model.train.tinyconv import KERNEL, PADDING, STRIDE

    w = {name: tf.constant(value) for name, value in tf_weights(model).items()}
    (pad_t, pad_f), (kernel_t, _) = PADDING, KERNEL
    # Padding only what the VALID conv reads keeps PAD's output tight (59 rows for 49 + 5 + 5 would
    # leave the last one unread): the conv output is the same.
    padded_t = config.NUM_FRAMES + 2 * pad_t
    bottom = pad_t - (padded_t - kernel_t) % STRIDE[0]

    @tf.function(
        input_signature=[tf.TensorSpec([1, config.NUM_FRAMES, config.NUM_CHANNELS, 1], tf.float32, name="features")]
    )
    def tinyconv(x):
        x = tf.pad(x, [[0, 0], [pad_t, bottom], [pad_f, pad_f], [0, 0]])
        x = tf.nn.relu(tf.nn.conv2d(x, w["conv_w"], strides=[1, *STRIDE, 1], padding="VALID") + w["conv_b"])
        x = tf.reshape(x, [1, -1])
        return tf.nn.softmax(tf.matmul(x, w["fc_w"]) + w["fc_b"])

    return tinyconv.get_concrete_function()


def export_tflite(model, representative: np.ndarray | None) -> bytes:
    """The flatbuffer of ``model``: int8 calibrated on ``representative`` (uint16 features
    (N, 49, 40)), or float32 when ``representative`` is None."""
    import tensorflow as tf

    from model.train.tinyconv import INPUT_SCALE

    function = _concrete_function(model)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([function], function)
    if representative is not None:
        samples = np.asarray(representative)[:REPRESENTATIVE_SAMPLES]

        def dataset() -> Iterator[list[np.ndarray]]:
            for features in samples:
                yield [(features.astype(np.float32) * INPUT_SCALE)[None, :, :, None]]

        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    return bytes(converter.convert())


class TFLMRunner:
    """One ``tflite_micro`` interpreter: uint16 features or ready model inputs → outputs."""

    def __init__(self, flatbuffer: bytes) -> None:
        from tflite_micro.python.tflite_micro import runtime

        from model.deploy.quantization import InputQuantization

        self.interpreter = runtime.Interpreter.from_bytes(flatbuffer)
        detail = self.interpreter.get_input_details(0)
        self.dtype = np.dtype(detail["dtype"])
        self.shape = tuple(int(d) for d in detail["shape"])
        self.quantization = InputQuantization.from_tflite(flatbuffer)
        self.input_size = int(np.prod(self.shape))
        self.output_size = int(np.prod(self.interpreter.get_output_details(0)["shape"]))

    def run_input(self, x: np.ndarray) -> np.ndarray:
        """Output of one model input (already int8 or float32, any shape with the right size)."""
        self.interpreter.set_input(np.ascontiguousarray(x, dtype=self.dtype).reshape(self.shape), 0)
        self.interpreter.invoke()
        return np.asarray(self.interpreter.get_output(0)).reshape(-1).copy()

    def run(self, features: np.ndarray) -> np.ndarray:
        """Output of uint16 features (49, 40)."""
        return self.run_input(self.quantization.model_input(features))


def tflm_predictions(flatbuffer: bytes, features: np.ndarray) -> np.ndarray:
    """Argmax of the TFLM output for each of uint16 features (N, 49, 40)."""
    runner = TFLMRunner(flatbuffer)
    return np.array([int(np.argmax(runner.run(f))) for f in features], dtype=np.int64)


def accuracy(labels: np.ndarray, predictions: np.ndarray) -> float:
    return float(np.mean(labels == predictions)) if len(labels) else 0.0


def run(args: argparse.Namespace) -> int:
    import torch

    from model.atomic import atomic_write_bytes
    from model.deploy.int4 import int4_flatbuffer
    from model.errors import BadInput
    from model.train.batches import DATA_SETTINGS, clean_splits, open_dataset
    from model.train.evaluate import predict
    from model.train.tinyconv import load_checkpoint

    if args.float and args.weight_bits != 8:
        raise BadInput(None, "--weight-bits 4 needs an integer model; drop --float")
    torch.set_num_threads(args.threads)
    checkpoint = Path(args.checkpoint)
    model, payload = load_checkpoint(checkpoint)
    settings = {key: payload["train_config"][key] for key in DATA_SETTINGS if key in payload["train_config"]}
    cache = Path(args.cache) if args.cache else checkpoint.parent / "features"
    splits = clean_splits(open_dataset(Path(args.data), settings), cache, progress=not args.json)
    flatbuffer = export_tflite(model, None if args.float else splits["train"].features)
    if args.weight_bits == 4:
        flatbuffer = int4_flatbuffer(flatbuffer)
    out = Path(args.out)
    atomic_write_bytes(out, flatbuffer)
    test = splits["test"]
    report: dict[str, Any] = {
        "model": str(out),
        "type": "float32" if args.float else "int8",
        "weight_bits": 32 if args.float else args.weight_bits,
        "bytes": len(flatbuffer),
        "test_samples": len(test.labels),
        "accuracy": {
            "pytorch": accuracy(test.labels, predict(model, test.features)),
            "tflite_micro": accuracy(test.labels, tflm_predictions(flatbuffer, test.features)),
        },
    }
    report["accuracy"]["difference"] = report["accuracy"]["tflite_micro"] - report["accuracy"]["pytorch"]
    report["within_1pp"] = abs(report["accuracy"]["difference"]) <= 0.01
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        acc = report["accuracy"]
        bits = " with int4 weights" if args.weight_bits == 4 else ""
        print(f"wrote {out} ({report['type']}{bits}, {len(flatbuffer):,} bytes)")
        print(
            f"test accuracy on {report['test_samples']} clips: PyTorch {acc['pytorch']:.4f}, "
            f"tflite_micro {acc['tflite_micro']:.4f} ({100 * acc['difference']:+.2f} pp)"
        )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export",
        help="export a checkpoint to an int8 (or float32) .tflite and compare accuracies",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--checkpoint", required=True, metavar="FILE", help="a model.pt written by kws train")
    parser.add_argument("--data", required=True, metavar="DIR", help="the dataset (Speech Commands layout)")
    parser.add_argument("--out", required=True, metavar="FILE.tflite", help="the flatbuffer to write")
    parser.add_argument("--float", action="store_true", help="float32 model instead of full-integer int8")
    parser.add_argument(
        "--weight-bits",
        type=weight_bits,
        default=8,
        help="conv and fc weight bits of the integer model: 8, or 4 (TFLite INT4, packed) (default 8)",
    )
    parser.add_argument("--cache", metavar="DIR", help="feature cache (default: features/ next to the checkpoint)")
    parser.add_argument("--threads", type=threads, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)
