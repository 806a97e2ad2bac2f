"""Writes models/tinynet.pt: the service's network with seeded random weights."""

import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "src"))

from catdog.net import TinyNet  # noqa: E402
from catdog.settings import LABELS  # noqa: E402


def main() -> None:
    torch.manual_seed(7)
    model = TinyNet(num_classes=len(LABELS)).eval()
    out = ROOT / "models" / "tinynet.pt"
    out.parent.mkdir(exist_ok=True)
    torch.save(model.state_dict(), out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
