"""The service's own network: a flattened 28x28 grayscale image through two linear layers.
Nothing in the preprocessing fixes the size; the first layer's width does."""

from torch import nn


class DigitMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.layers = nn.Sequential(nn.Linear(28 * 28, 64), nn.ReLU(), nn.Linear(64, 10))

    def forward(self, x):
        return self.layers(self.flatten(x))
