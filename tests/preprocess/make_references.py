"""Runs each preprocessing step with the Python library itself, for the parity tests.

Usage: python make_references.py OUT_DIR

Real photographs from skimage.data, cut to several sizes (square and not), go through PIL,
torchvision and OpenCV; inputs and outputs are written as .npy, and manifest.json lists the
cases: which image, which operation with which parameters, and the expected output.
tests/tests/preprocess_parity.rs runs the Rust operations on the same inputs and compares.
"""

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import PIL
import skimage
import skimage.data
import torch
import torchvision
from PIL import Image, ImageOps
from torchvision import transforms

FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "hamming": Image.Resampling.HAMMING,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def photographs():
    """(name, HxWx3 uint8) at several sizes; odd sizes and both orientations on purpose."""
    astronaut = skimage.data.astronaut()  # 512x512
    chelsea = skimage.data.chelsea()  # 300x451
    coffee = skimage.data.coffee()  # 400x600
    yield "astronaut", astronaut
    yield "chelsea", chelsea
    yield "coffee", coffee
    yield "coffee_tall", np.ascontiguousarray(coffee[:, 100:333])  # 400x233, portrait
    yield "chelsea_small", chelsea[:61, :97]  # smaller than the crops


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    cases, tf_cases = [], []

    def save(name, array):
        path = out_dir / f"{name}.npy"
        np.save(path, np.ascontiguousarray(array))
        return path.name

    for image_name, pixels in photographs():
        source = save(f"{image_name}_input", pixels)
        pil = Image.fromarray(pixels)
        h, w = pixels.shape[:2]

        # Decoding: the glue decodes PNG and JPEG files with image-rs; PIL is the reference.
        for fmt, ext in (("PNG", "png"), ("JPEG", "jpg")):
            encoded = out_dir / f"{image_name}.{ext}"
            pil.save(encoded, fmt, quality=90) if fmt == "JPEG" else pil.save(encoded, fmt)
            decoded = np.asarray(Image.open(encoded).convert("RGB"))
            cases.append({"input": encoded.name, "op": {"kind": "decode"},
                          "expected": save(f"{image_name}_decode_{ext}", decoded)})

        for filter_name, resample in FILTERS.items():
            for size in ((224, 160), (97, 131), (w * 3 // 2 + 1, h + 7)):
                out = np.asarray(pil.resize(size, resample))
                cases.append({"input": source,
                              "op": {"kind": "pil_resize", "filter": filter_name, "size": list(size)},
                              "expected": save(f"{image_name}_pil_{filter_name}_{size[0]}x{size[1]}", out)})

        # ImageOps.fit (Teachable Machine's snippet): a float crop box, then a boxed resize.
        for filter_name in ("lanczos", "bicubic"):
            for size in ((224, 224), (96, 160)):
                out = np.asarray(ImageOps.fit(pil, size, FILTERS[filter_name]))
                cases.append({"input": source,
                              "op": {"kind": "pil_fit", "filter": filter_name, "size": list(size)},
                              "expected": save(f"{image_name}_fit_{filter_name}_{size[0]}x{size[1]}", out)})

        # Grayscale: PIL's convert("L"), then a resize of the "L" image, as float32 HxWx1.
        gray = pil.convert("L").resize((97, 131), Image.Resampling.BILINEAR)
        cases.append({"input": source, "op": {"kind": "pil_gray", "size": [97, 131]},
                      "expected": save(f"{image_name}_pil_gray",
                                       np.asarray(gray).astype(np.float32)[..., None])})

        # torchvision's classification chain on PIL images, step by step and whole.
        for resize, crop in ((256, 224), (160, 128), (75, 80)):
            resized = transforms.Resize(resize, interpolation=transforms.InterpolationMode.BILINEAR,
                                        antialias=True)(pil)
            cases.append({"input": source, "op": {"kind": "torchvision_resize", "size": resize},
                          "expected": save(f"{image_name}_tv_resize_{resize}", np.asarray(resized))})
            cropped = transforms.CenterCrop(crop)(resized)
            cases.append({"input": save(f"{image_name}_tv_resized_{resize}", np.asarray(resized)),
                          "op": {"kind": "center_crop", "size": crop},
                          "expected": save(f"{image_name}_tv_crop_{resize}_{crop}", np.asarray(cropped))})
            mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
            chain = transforms.Compose([
                transforms.Resize(resize, antialias=True),
                transforms.CenterCrop(crop),
                transforms.ToTensor(),
                transforms.Normalize(mean=mean, std=std),
            ])
            tensor = chain(pil).unsqueeze(0).numpy()
            cases.append({"input": source,
                          "op": {"kind": "torchvision_chain", "resize": resize, "crop": crop,
                                 "mean": mean, "std": std},
                          "expected": save(f"{image_name}_tv_chain_{resize}_{crop}", tensor)})

        # tf.image.resize with its defaults (bilinear, half-pixel centres): float32 pixel values,
        # made by a child process (TensorFlow and torch in one process abort on LLVM options).
        for size in ((224, 160), (97, 131), (w * 3 // 2 + 1, h + 7), (w // 3 + 1, h * 2)):
            tf_cases.append({"input": source, "op": {"kind": "tf_resize", "size": list(size)},
                             "expected": f"{image_name}_tf_bilinear_{size[0]}x{size[1]}.npy"})

        # OpenCV, in BGR as it decodes, then the NumPy arithmetic of onnxruntime-service.
        bgr = cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR)
        bgr_source = save(f"{image_name}_bgr_input", bgr)
        # Shrinking by whole factors takes OpenCV's block-averaging paths (INTER_LINEAR by 2 too).
        whole = [(w // k, h // k) for k in (2, 3, 4) if w % k == 0 and h % k == 0]
        for interpolation, flag in (("linear", cv2.INTER_LINEAR), ("nearest", cv2.INTER_NEAREST),
                                    ("area", cv2.INTER_AREA)):
            for size in ((128, 96), (97, 131), (w * 3 // 2 + 1, h + 7), (w // 3 + 1, h * 2), *whole):
                out = cv2.resize(bgr, size, interpolation=flag)
                cases.append({"input": bgr_source,
                              "op": {"kind": "cv_resize", "interpolation": interpolation,
                                     "size": list(size)},
                              "expected": save(f"{image_name}_cv_{interpolation}_{size[0]}x{size[1]}", out)})
        gray = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), (97, 131), interpolation=cv2.INTER_LINEAR)
        cases.append({"input": bgr_source, "op": {"kind": "cv_gray", "size": [97, 131]},
                      "expected": save(f"{image_name}_cv_gray", gray.astype(np.float32)[..., None])})
        rgb = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (128, 96), interpolation=cv2.INTER_LINEAR)
        x = rgb.astype(np.float32) / 255.0
        x = (x - np.array([0.5] * 3, np.float32)) / np.array([0.25] * 3, np.float32)
        x = np.expand_dims(np.transpose(x, (2, 0, 1)), 0)
        cases.append({"input": bgr_source, "op": {"kind": "cv_chain", "size": [128, 96]},
                      "expected": save(f"{image_name}_cv_chain", x)})

    (out_dir / "tf_cases.json").write_text(json.dumps(tf_cases))
    tensorflow = subprocess.run([sys.executable, __file__, "--tf-resize", str(out_dir)],
                                check=True, capture_output=True, text=True).stdout.strip()
    cases += tf_cases

    versions = {"pillow": PIL.__version__, "torch": torch.__version__,
                "torchvision": torchvision.__version__, "opencv": cv2.__version__,
                "tensorflow": tensorflow,
                "numpy": np.__version__, "scikit-image": skimage.__version__}
    (out_dir / "manifest.json").write_text(json.dumps({"versions": versions, "cases": cases}, indent=1))
    print(f"wrote {len(cases)} cases to {out_dir}")


def tf_resize_main(out_dir: Path) -> None:
    """The tf.image.resize cases main() listed, in a process without torch; prints TF's version."""
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    for case in json.loads((out_dir / "tf_cases.json").read_text()):
        pixels = np.load(out_dir / case["input"])
        width, height = case["op"]["size"]
        np.save(out_dir / case["expected"], tf.image.resize(pixels, (height, width)).numpy())
    print(tf.__version__)


if __name__ == "__main__":
    if sys.argv[1] == "--tf-resize":
        tf_resize_main(Path(sys.argv[2]))
    else:
        main(Path(sys.argv[1]))
