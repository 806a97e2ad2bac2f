"""wasm-migrate bench: what the original's image carries, asked of its own interpreter.

Prints JSON: the interpreter's files, and the distributions the service requires (its
requirements.txt or pyproject.toml, then their dependencies, transitively) with the bytes of
the files each installed. Without a manifest, `requirements` is null and the whole
site-packages counts.

Run with `python -c` after pyharness's requirements.py (measure/src/size.rs inlines it), whose
applicable_name and closure it calls.
"""

import json
import os
import sys
import sysconfig

service = sys.argv[1]


def requirement_names():
    names = []
    text = os.path.join(service, "requirements.txt")
    if os.path.isfile(text):
        for line in open(text, encoding="utf-8", errors="replace"):
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                name = applicable_name(line)
                if name:
                    names.append(name)
        return names, "requirements.txt"
    project = os.path.join(service, "pyproject.toml")
    if os.path.isfile(project) and sys.version_info >= (3, 11):
        import tomllib

        with open(project, "rb") as f:
            data = tomllib.load(f)
        for spec in data.get("project", {}).get("dependencies", []):
            name = applicable_name(spec)
            if name:
                names.append(name)
        return names, "pyproject.toml"
    return None, None


def installed_bytes(dist):
    total = 0
    for file in dist.files or []:
        try:
            total += os.stat(file.locate()).st_size
        except OSError:
            pass
    return total


paths = sysconfig.get_paths()
lib = os.path.join(sysconfig.get_config_var("LIBDIR") or "", sysconfig.get_config_var("LDLIBRARY") or "")
answer = {
    "executable": os.path.realpath(sys.executable),
    "stdlib": paths["stdlib"],
    "purelib": paths["purelib"],
    "platlib": paths["platlib"],
    "libpython": lib if os.path.isfile(lib) else None,
    "manifest": None,
    "requirements": None,
    "missing": [],
}
names, manifest = requirement_names()
if names:
    reached = list(closure(names))
    answer["manifest"] = manifest
    answer["requirements"] = {key: installed_bytes(dist) for key, _, dist, _ in sorted(reached, key=lambda r: r[0])
                              if dist is not None}
    answer["missing"] = [key for key, _, dist, _ in reached if dist is None]
print(json.dumps(answer))
