"""Writes model/keras_model.keras: a small Sequential with its training augmentation layers."""

from pathlib import Path

import tensorflow as tf

OUT = Path(__file__).resolve().parent / "model" / "keras_model.keras"


def main() -> None:
    tf.keras.utils.set_random_seed(7)
    model = tf.keras.Sequential(
        [
            tf.keras.layers.RandomFlip("horizontal"),
            tf.keras.layers.RandomRotation(0.1),
            tf.keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
            tf.keras.layers.Conv2D(16, 3, strides=2, activation="relu"),
            tf.keras.layers.GlobalAveragePooling2D(),
            tf.keras.layers.Dropout(0.2),
            tf.keras.layers.Dense(3, activation="softmax"),
        ]
    )
    model.build((None, 96, 96, 3))
    OUT.parent.mkdir(exist_ok=True)
    model.save(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
