"""Create the model this service loads: model/detector.pt.

A tiny single-scale anchor detector with seeded random weights, traced to
TorchScript on the CPU (server.py moves it to the GPU with .cuda()).
Input: N x 3 x 320 x 320 RGB in [0, 1]. Outputs: boxes N x 100 x 4 (xyxy,
input pixels) and scores N x 100.
"""

from pathlib import Path

import torch
from torch import nn

OUT_DIR = Path(__file__).resolve().parent / "model"
OUT_PATH = OUT_DIR / "detector.pt"
INPUT_SIZE = 320
STRIDE = 32


class TinyDetector(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        layers, channels = [], 3
        for out_channels in (16, 32, 32, 64, 64):  # five stride-2 convs: 320 -> 10
            layers += [nn.Conv2d(channels, out_channels, 3, stride=2, padding=1), nn.ReLU()]
            channels = out_channels
        self.backbone = nn.Sequential(*layers)
        self.head = nn.Conv2d(channels, 5, kernel_size=1)  # dx, dy, dw, dh, objectness

        cells = INPUT_SIZE // STRIDE
        ys, xs = torch.meshgrid(torch.arange(cells), torch.arange(cells), indexing="ij")
        centers = (torch.stack([xs, ys], dim=-1).reshape(-1, 2).float() + 0.5) * STRIDE
        self.register_buffer("centers", centers)  # buffers follow .cuda()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.head(self.backbone(x)).flatten(2).transpose(1, 2)  # N x cells^2 x 5
        center = self.centers + torch.tanh(out[..., 0:2]) * STRIDE
        half_size = torch.exp(out[..., 2:4].clamp(-2.0, 2.0)) * STRIDE
        boxes = torch.cat([center - half_size, center + half_size], dim=-1)
        scores = torch.sigmoid(out[..., 4])
        return boxes, scores


def main() -> None:
    torch.manual_seed(0)
    model = TinyDetector().eval()
    example = torch.rand(1, 3, INPUT_SIZE, INPUT_SIZE)
    with torch.no_grad():
        traced = torch.jit.trace(model, example)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    traced.save(str(OUT_PATH))
    boxes, scores = traced(example)
    print(f"wrote {OUT_PATH}: boxes {tuple(boxes.shape)}, scores {tuple(scores.shape)}")


if __name__ == "__main__":
    main()
