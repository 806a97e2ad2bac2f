"""Writes model/digits.onnx: a one-layer classifier of 8x8 digits with seeded random weights,
built with onnx's helpers (no training framework needed)."""

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = Path(__file__).resolve().parent / "model" / "digits.onnx"


def main() -> None:
    rng = np.random.default_rng(8)
    weights = numpy_helper.from_array(rng.normal(0, 0.5, (64, 10)).astype(np.float32), "weights")
    bias = numpy_helper.from_array(rng.normal(0, 0.1, (10,)).astype(np.float32), "bias")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["pixels", "weights"], ["logits"]),
            helper.make_node("Add", ["logits", "bias"], ["scores"]),
        ],
        "digits",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, [1, 64])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 10])],
        [weights, bias],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    OUT.parent.mkdir(exist_ok=True)
    onnx.save(model, OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
