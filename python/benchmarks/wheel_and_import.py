"""Size of the built wheel and the time `import wasm_migrate` takes in a fresh interpreter.

    python python/benchmarks/wheel_and_import.py target/wheels/wasm_migrate-*.whl

Run it with the interpreter the wheel is installed in. The import time is the median of 20
fresh processes, measured inside each process (interpreter start-up excluded). Target: < 50 ms.
"""

import os
import statistics
import subprocess
import sys

PROBE = "import time; t = time.perf_counter(); import wasm_migrate; print(time.perf_counter() - t)"


def main() -> None:
    for wheel in sys.argv[1:]:
        print(f"wheel: {os.path.basename(wheel)}  {os.path.getsize(wheel) / 1e6:.2f} MB")
    times = [float(subprocess.check_output([sys.executable, "-c", PROBE], text=True)) for _ in range(20)]
    median = statistics.median(times) * 1000
    print(f"import wasm_migrate: median {median:.1f} ms, min {min(times) * 1000:.1f} ms over {len(times)} runs (target < 50 ms)")


if __name__ == "__main__":
    main()
