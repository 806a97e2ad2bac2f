"""Writes artifacts/scorer.onnx: a small CNN with seeded random weights, exported by torch."""

from pathlib import Path

import torch
from torch import nn

OUT = Path(__file__).resolve().parent / "artifacts" / "scorer.onnx"


def main() -> None:
    torch.manual_seed(11)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 5, stride=2, padding=2),
        nn.ReLU(),
        nn.Conv2d(8, 16, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 5),
    ).eval()
    OUT.parent.mkdir(exist_ok=True)
    torch.onnx.export(model, torch.zeros(1, 3, 112, 112), OUT, input_names=["pixels"],
                      output_names=["logits"], dynamo=False)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
