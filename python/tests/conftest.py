import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture
def samples() -> pathlib.Path:
    return REPO / "samples"
