"""Baseline for the analyze benchmark: only ast.parse and import collection, one process.

Reads the list of files to parse (one path per line) from the file named on the command line
and prints one JSON line: files, lines, imports, seconds.
"""
import ast
import json
import sys
import time


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        paths = [line.rstrip("\n") for line in f if line.strip()]
    started = time.perf_counter()
    lines = 0
    imports = set()
    parsed = 0
    for path in paths:
        try:
            with open(path, "rb") as f:
                source = f.read()
            tree = ast.parse(source, filename=path)
        except (SyntaxError, ValueError, OSError, RecursionError, MemoryError):
            continue
        parsed += 1
        lines += source.count(b"\n") + 1
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imports.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imports.add(node.module)
    print(json.dumps({
        "files": parsed,
        "lines": lines,
        "imports": len(imports),
        "seconds": time.perf_counter() - started,
    }))


if __name__ == "__main__":
    main()
