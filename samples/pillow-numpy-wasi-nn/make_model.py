"""Create the model this service loads: model/classifier.onnx.

A small CNN with seeded random weights, built in PyTorch and exported to ONNX (the
TorchScript-based exporter). Input "input" is 1x3x64x64 (NCHW, RGB); output "logits" is 1x5.
"""

from pathlib import Path

import torch
from torch import nn

OUT_DIR = Path(__file__).resolve().parent / "model"
OUT_PATH = OUT_DIR / "classifier.onnx"


class TinyNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(8, 16, kernel_size=3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(16, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def main() -> None:
    torch.manual_seed(0)
    model = TinyNet().eval()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(
        model,
        (torch.randn(1, 3, 64, 64),),
        str(OUT_PATH),
        input_names=["input"],
        output_names=["logits"],
        opset_version=17,
        dynamo=False,
    )
    print(f"wrote {OUT_PATH}")


if __name__ == "__main__":
    main()
