"""Create the model this service loads: model/classifier.onnx.

A small CNN with seeded random weights is built in PyTorch and exported with
the TorchScript-based ONNX exporter. Input "input" is 1x3x96x128 (NCHW, RGB,
height 96, width 128); output "logits" is 1x4.
"""

from pathlib import Path

import torch
from torch import nn

OUT_DIR = Path(__file__).resolve().parent / "model"
OUT_PATH = OUT_DIR / "classifier.onnx"
NUM_CLASSES = 4
INPUT_H, INPUT_W = 96, 128


class SceneNet(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 32, kernel_size=3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def main() -> None:
    torch.manual_seed(0)
    model = SceneNet(NUM_CLASSES).eval()
    dummy = torch.randn(1, 3, INPUT_H, INPUT_W)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (dummy,),
        str(OUT_PATH),
        input_names=["input"],
        output_names=["logits"],
        opset_version=17,
        dynamo=False,
    )
    print(f"wrote {OUT_PATH}")


if __name__ == "__main__":
    main()
