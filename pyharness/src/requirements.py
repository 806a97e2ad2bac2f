# wasm-migrate's one reading of Python requirements (pyharness/src/requirements.py): package
# names normalised as PEP 503 says, requirement markers, and the closure of what a set of
# requirements installs here. Inlined before bench's deployable.py and the bundle's collect.py,
# which run with `python -c`. Standard library only; `packaging` (or pip's copy) evaluates
# markers when the interpreter has it.

import operator as _operator
import re as _re
import sys as _sys
from importlib import metadata as _metadata

_NAME = _re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def normalise(name):
    """A distribution name as PEP 503 compares them: `Scikit_Learn` -> `scikit-learn`."""
    return _re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement):
    """The project a requirement names (`torch>=2; ...` -> `torch`), or None."""
    match = _NAME.match(requirement)
    return match.group(1) if match else None


def _marker_class():
    try:
        from packaging.markers import Marker

        return Marker
    except ImportError:
        pass
    try:
        from pip._vendor.packaging.markers import Marker

        return Marker
    except ImportError:
        return None


_COMPARE = {"<": _operator.lt, "<=": _operator.le, ">": _operator.gt, ">=": _operator.ge,
            "==": _operator.eq, "!=": _operator.ne}
_PYTHON_CLAUSE = _re.compile(r"""\s*(python_version|python_full_version)\s*(<=|>=|==|!=|<|>)\s*["']([0-9.]+)["']\s*""")


def _without_packaging(marker, environment):
    """Markers without a marker evaluator: extras never apply, a lone python_version
    comparison is evaluated (backports for older Pythons), anything else applies."""
    if "extra" in marker:
        return False
    match = _PYTHON_CLAUSE.fullmatch(marker)
    if not match:
        return True
    key, op, wanted = match.groups()
    if environment and key in environment:
        have = environment[key]
    else:
        have = "%d.%d.%d" % _sys.version_info[:3] if key == "python_full_version" else "%d.%d" % _sys.version_info[:2]

    def version(text):
        return tuple(int(p) for p in text.split(".") if p.isdigit())

    return _COMPARE[op](version(have), version(wanted))


def marker_applies(marker, environment=None):
    """Whether a requirement's marker (the text after `;`) holds in `environment` (marker
    variables; None: this interpreter). Extras the service did not ask for never do. A marker
    that cannot be evaluated applies: a requirement too many is safer than one too few."""
    marker = (marker or "").strip()
    if not marker:
        return True
    marker_class = _marker_class()
    if marker_class is not None:
        try:
            variables = dict(environment or {})
            variables.setdefault("extra", "")
            return bool(marker_class(marker).evaluate(variables))
        except Exception:
            pass
    return _without_packaging(marker, environment)


def applicable_name(requirement, environment=None):
    """The project a requirement line installs in `environment`, or None (its marker is false
    there, or it names an extra)."""
    head, _, marker = requirement.partition(";")
    if not marker_applies(marker, environment):
        return None
    return requirement_name(head)


def dist_requirements(dist, environment=None):
    """The projects an installed distribution requires in `environment`, in its order."""
    names = []
    for requirement in dist.requires or []:
        name = applicable_name(requirement, environment)
        if name:
            names.append(name)
    return names


def find_distribution(name):
    """The installed distribution of a project, by its name as written or normalised; None."""
    for candidate in dict.fromkeys([name, normalise(name)]):
        try:
            return _metadata.distribution(candidate)
        except (_metadata.PackageNotFoundError, ValueError):
            continue
    return None


def closure(names, environment=None):
    """The distributions `names` require, transitively, as this interpreter has them installed:
    (normalised name, name as required, distribution or None when it is not installed, the
    names it requires), once per project, in the order they are reached."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        key = normalise(name)
        if key in seen:
            continue
        seen.add(key)
        dist = find_distribution(name)
        requires = dist_requirements(dist, environment) if dist is not None else []
        yield key, name, dist, requires
        todo.extend(requires)
