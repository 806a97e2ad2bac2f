"""Builds the `fastops` CUDA extension (GPU NMS) used by server.py.

    pip install --no-build-isolation .    # needs nvcc and a CUDA-enabled torch
"""

from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CUDAExtension

setup(
    name="fastops",
    version="0.4.1",
    description="CUDA kernels for the video detector service",
    ext_modules=[CUDAExtension("fastops", ["csrc/fastops.cpp", "csrc/fastops_kernel.cu"])],
    cmdclass={"build_ext": BuildExtension},
    python_requires=">=3.10",
)
