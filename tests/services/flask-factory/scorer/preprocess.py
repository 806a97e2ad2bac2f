import numpy as np
from PIL import Image, ImageOps

from .config import INPUT_SIZE

MEAN = np.array([0.5, 0.5, 0.5], dtype=np.float32)
STD = np.array([0.25, 0.25, 0.25], dtype=np.float32)


def to_batch(stream) -> np.ndarray:
    image = ImageOps.exif_transpose(Image.open(stream))
    image = image.convert("RGB").resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)
    x = np.asarray(image, dtype=np.float32) / 255.0
    x = (x - MEAN) / STD
    return x.transpose(2, 0, 1)[None]
