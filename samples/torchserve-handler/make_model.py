"""Create the files this handler loads: model/model.pt and model/index_to_name.json.

No pretrained weights are downloaded: a small CNN with seeded random weights is
traced with torch.jit.trace and saved as TorchScript.
"""

import json
from pathlib import Path

import torch
from torch import nn

OUT_DIR = Path(__file__).resolve().parent / "model"
CLASS_NAMES = [
    "tench",
    "goldfish",
    "great_white_shark",
    "tiger_shark",
    "hammerhead",
    "electric_ray",
    "stingray",
    "cock",
]


class SmallCNN(nn.Module):
    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, kernel_size=3, stride=2, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.Conv2d(16, 32, kernel_size=3, stride=2, padding=1),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, kernel_size=3, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d(1),
        )
        self.classifier = nn.Linear(64, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


def main() -> None:
    torch.manual_seed(0)
    model = SmallCNN(num_classes=len(CLASS_NAMES)).eval()
    example = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        traced = torch.jit.trace(model, example)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    traced.save(str(OUT_DIR / "model.pt"))
    index_to_name = {str(i): name for i, name in enumerate(CLASS_NAMES)}
    (OUT_DIR / "index_to_name.json").write_text(json.dumps(index_to_name, indent=2) + "\n")
    print(f"wrote {OUT_DIR / 'model.pt'} and {OUT_DIR / 'index_to_name.json'}")


if __name__ == "__main__":
    main()
