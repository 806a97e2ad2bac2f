"""The original side of the generated-glue tests: the sample service's own code on real photos.

Usage: python reference.py SAMPLE SERVICE_DIR OUT_DIR

Writes photographs from skimage.data as PNG (non-square, several sizes) into OUT_DIR as
input_<i>.png, then runs them through the service's own preprocessing and model, imported from
SERVICE_DIR, and writes input_<i>_pre.npy (the tensor fed to the model) and input_<i>_out.npy
(the model's output). `wasm-migrate verify` does this generically; here each sample names the
objects it uses.
"""

import os
import sys
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image


def photographs():
    yield skimage.data.chelsea()  # 451x300
    yield skimage.data.coffee()  # 600x400
    yield np.ascontiguousarray(skimage.data.astronaut()[40:340, 100:301])  # 201x300, portrait


def main(sample, service_dir, out_dir):
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, pixels in enumerate(photographs()):
        path = out_dir / f"input_{i}.png"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    os.chdir(service_dir)
    sys.path.insert(0, str(service_dir))
    if sample == "torchvision-flask":
        import app
        import torch

        for path in paths:
            x = app.transform(Image.open(path).convert("RGB")).unsqueeze(0)
            with torch.no_grad():
                out = app.model(x)
            np.save(path.with_name(path.stem + "_pre.npy"), x.numpy())
            np.save(path.with_name(path.stem + "_out.npy"), out.numpy())
    elif sample == "onnxruntime-service":
        import service

        for path in paths:
            x = service.preprocess(path.read_bytes())
            (out,) = service.session.run(None, {"input": x})
            np.save(path.with_name(path.stem + "_pre.npy"), x)
            np.save(path.with_name(path.stem + "_out.npy"), out)
    else:
        sys.exit(f"no reference for sample {sample}")
    print(f"wrote {len(paths)} inputs and references to {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve())
