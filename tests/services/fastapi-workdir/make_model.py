"""Writes backend/model/squeeze.pt: the service's SqueezeNet with seeded random weights."""

from pathlib import Path

import torch
import torchvision

OUT = Path(__file__).resolve().parent / "backend" / "model" / "squeeze.pt"


def main() -> None:
    torch.manual_seed(5)
    model = torchvision.models.squeezenet1_1(weights=None, num_classes=6).eval()
    OUT.parent.mkdir(exist_ok=True)
    torch.save(model.state_dict(), OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
