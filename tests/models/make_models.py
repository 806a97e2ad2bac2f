"""Makes the models, inputs and reference outputs the runtime tests use.

Usage: python make_models.py OUT_DIR

Everything is built from seeded random weights with the `onnx` package, converted to OpenVINO
IR with full-precision weights, and run through the `onnxruntime` Python package to give the
reference outputs the Wasm side must match:

  cnn.onnx / cnn.xml+bin    1x3x32x32 image -> 10 logits (Conv, Relu, MaxPool, Conv, GAP, Gemm)
  mlp.onnx / mlp.xml+bin    1x16 features -> 4 scores (Gemm, Relu, Gemm)
  identity_<type>.onnx      2x3 tensor of <type> -> the same tensor, for every wasi-nn type
  <model>_input.npy, <model>_expected.npy
  manifest.json             what was made, with the library versions that made it
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
RNG = np.random.default_rng(20261126)


def weights(name, *shape, scale=0.2):
    return numpy_helper.from_array((RNG.standard_normal(shape) * scale).astype(np.float32), name)


def save(model, path):
    model = helper.make_model(model, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 7
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def cnn():
    nodes = [
        helper.make_node("Conv", ["image", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"], transB=1),
    ]
    init = [
        weights("w1", 8, 3, 3, 3), weights("b1", 8),
        weights("w2", 16, 8, 3, 3), weights("b2", 16),
        weights("w3", 10, 16, scale=1.0), weights("b3", 10),
    ]
    graph = helper.make_graph(
        nodes, "cnn",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        init,
    )
    return graph, {"image": RNG.random((1, 3, 32, 32), dtype=np.float32)}


def mlp():
    nodes = [
        helper.make_node("Gemm", ["features", "w1", "b1"], ["h"], transB=1),
        helper.make_node("Relu", ["h"], ["a"]),
        helper.make_node("Gemm", ["a", "w2", "b2"], ["scores"], transB=1),
    ]
    init = [weights("w1", 32, 16), weights("b1", 32), weights("w2", 4, 32), weights("b2", 4)]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, 16])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [1, 4])],
        init,
    )
    return graph, {"features": RNG.standard_normal((1, 16)).astype(np.float32)}


# wasi-nn's tensor types and the ONNX element type each one maps to.
IDENTITY_TYPES = {
    "f16": TensorProto.FLOAT16,
    "f32": TensorProto.FLOAT,
    "f64": TensorProto.DOUBLE,
    "u8": TensorProto.UINT8,
    "i32": TensorProto.INT32,
    "i64": TensorProto.INT64,
}


def identity(elem_type):
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "identity",
        [helper.make_tensor_value_info("x", elem_type, [2, 3])],
        [helper.make_tensor_value_info("y", elem_type, [2, 3])],
    )
    return graph


def main(out):
    import onnxruntime
    import openvino

    out.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, build in [("cnn", cnn), ("mlp", mlp)]:
        graph, inputs = build()
        save(graph, out / f"{name}.onnx")
        session = onnxruntime.InferenceSession(str(out / f"{name}.onnx"), providers=["CPUExecutionProvider"])
        (expected,) = session.run(None, inputs)
        (input_value,) = inputs.values()
        np.save(out / f"{name}_input.npy", input_value)
        np.save(out / f"{name}_expected.npy", expected)
        # Full-precision weights: save_model would otherwise compress them to fp16.
        ir = openvino.convert_model(str(out / f"{name}.onnx"))
        openvino.save_model(ir, str(out / f"{name}.xml"), compress_to_fp16=False)
        made[name] = {"input": list(input_value.shape), "output": list(expected.shape)}
    for type_name, elem_type in IDENTITY_TYPES.items():
        save(identity(elem_type), out / f"identity_{type_name}.onnx")
    manifest = {
        "models": made,
        "identity_types": list(IDENTITY_TYPES),
        "onnx": onnx.__version__,
        "onnxruntime": onnxruntime.__version__,
        "openvino": openvino.__version__,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"made test models in {out}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
