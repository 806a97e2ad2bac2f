"""Create the model file this service loads: model/resnet18.pt.

Pretrained weights are not downloaded; the ResNet-18 gets seeded random
weights so that every run of this script writes the same state_dict.
"""

from pathlib import Path

import torch
import torchvision

OUT_DIR = Path(__file__).resolve().parent / "model"
OUT_PATH = OUT_DIR / "resnet18.pt"


def main() -> None:
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None, num_classes=10)
    model.eval()

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), OUT_PATH)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"wrote {OUT_PATH} ({n_params} parameters)")


if __name__ == "__main__":
    main()
