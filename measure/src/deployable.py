"""wasm-migrate bench: what the original's image carries, asked of its own interpreter.

Prints JSON: the interpreter's files, and the distributions the service requires (its
requirements.txt or pyproject.toml, then their dependencies, transitively) with the bytes of
the files each installed. Without a manifest, `requirements` is null and the whole
site-packages counts.
"""

import json
import os
import re
import sys
import sysconfig
from importlib import metadata

service = sys.argv[1]


def requirement_names():
    names = []
    text = os.path.join(service, "requirements.txt")
    if os.path.isfile(text):
        for line in open(text, encoding="utf-8", errors="replace"):
            line = line.split("#", 1)[0].strip()
            if line and not line.startswith("-"):
                match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
                if match:
                    names.append(match.group(0))
        return names, "requirements.txt"
    project = os.path.join(service, "pyproject.toml")
    if os.path.isfile(project) and sys.version_info >= (3, 11):
        import tomllib

        with open(project, "rb") as f:
            data = tomllib.load(f)
        for spec in data.get("project", {}).get("dependencies", []):
            match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec)
            if match:
                names.append(match.group(0))
        return names, "pyproject.toml"
    return None, None


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def applies(requirement):
    """The name a requirement line installs here, or None (an extra, or a marker false here)."""
    try:
        from packaging.requirements import Requirement

        parsed = Requirement(requirement)
        if parsed.marker is not None and not parsed.marker.evaluate({"extra": ""}):
            return None
        return parsed.name
    except Exception:
        spec, _, marker = requirement.partition(";")
        if "extra" in marker or "python_version" in marker:
            return None
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec.strip())
        return match.group(0) if match else None


def closure(names):
    seen, missing, todo = {}, [], list(names)
    while todo:
        name = normalise(todo.pop())
        if name in seen or name in missing:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        seen[name] = dist
        for requirement in dist.requires or []:
            name = applies(requirement)
            if name:
                todo.append(name)
    return seen, missing


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
    dists, missing = closure(names)
    answer["manifest"] = manifest
    answer["requirements"] = {name: installed_bytes(dist) for name, dist in sorted(dists.items())}
    answer["missing"] = missing
print(json.dumps(answer))
