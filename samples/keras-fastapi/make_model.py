"""Create the model file this service loads: model/mobilenet_v2.keras.

ImageNet weights are not downloaded: a slim MobileNetV2 (alpha=0.35, 5
classes) is built with seeded random weights. Its head outputs logits
(no softmax) because main.py applies tf.nn.softmax itself.
"""

from pathlib import Path

import tensorflow as tf

OUT_DIR = Path(__file__).resolve().parent / "model"
OUT_PATH = OUT_DIR / "mobilenet_v2.keras"
NUM_CLASSES = 5


def main() -> None:
    tf.random.set_seed(0)
    # Keras 3 draws initializer seeds from Python's and NumPy's generators as
    # well: seed all of them so the saved weights are reproducible.
    tf.keras.utils.set_random_seed(0)

    model = tf.keras.applications.MobileNetV2(
        input_shape=(160, 160, 3),
        alpha=0.35,
        weights=None,
        classes=NUM_CLASSES,
        classifier_activation=None,
    )

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    model.save(OUT_PATH)
    print(f"wrote {OUT_PATH} ({model.count_params()} parameters)")


if __name__ == "__main__":
    main()
