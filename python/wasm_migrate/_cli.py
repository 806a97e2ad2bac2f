"""The ``wasm-migrate`` console script: the Rust CLI, run in-process."""

import signal
import sys


def main() -> None:
    # The Rust code runs without returning to the interpreter, which would only see Ctrl-C
    # afterwards: restore the default SIGINT action so Ctrl-C stops the command at once,
    # exactly as it stops the native binary.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    from wasm_migrate._native import run_cli

    sys.exit(run_cli(["wasm-migrate", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
