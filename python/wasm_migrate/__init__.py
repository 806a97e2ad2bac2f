"""Move Python inference services off Linux containers onto WebAssembly runtimes.

The same analysis as the ``wasm-migrate`` command, for notebooks and scripts::

    >>> import wasm_migrate
    >>> report = wasm_migrate.analyze("samples/torchvision-flask")
    >>> report.recommendation["path"]
    'wasi-nn-glue'
    >>> [step["op"] for step in report.plan["preprocessing"]][:3]
    ['open', 'convert', 'Resize']

From a written plan, ``generate``, ``convert``, ``build`` and ``inspect`` do what the commands
of the same names do and return their JSON output as dicts.

In Jupyter, a report renders as an HTML summary with the detected pipeline drawn as a
diagram. Every error is a :class:`WasmMigrateError`.
"""

from wasm_migrate._native import Report, WasmMigrateError, __version__, build, convert, generate, inspect
from wasm_migrate._native import analyze as _analyze

__all__ = ["Report", "WasmMigrateError", "__version__", "analyze", "build", "convert", "generate", "inspect"]


def analyze(path, *, rules=None, fail_on=None):
    """Analyze a Python inference service (a directory or one ``.py`` file).

    Parses every Python file and dependency manifest, flags what cannot run under
    WASI/WasmEdge, finds the model loading, preprocessing chain and serving layer, and
    recommends a migration path. The GIL is released while the analysis runs.

    Args:
        path: The service directory or Python file (``str`` or ``os.PathLike``).
        rules: A directory of extra rules (``*.yaml``) and package entries
            (``packages*.yaml``), as the CLI's ``--rules``.
        fail_on: ``"mandatory"``, ``"optional"``, ``"potential"`` or ``None``: sets
            :attr:`Report.failed` and :attr:`Report.exit_code` as the CLI's ``--fail-on``.

    Returns:
        A :class:`Report`.

    Raises:
        WasmMigrateError: the path does not exist, or a rules file is invalid (``path`` and
            ``line`` say where).

    Example::

        >>> report = wasm_migrate.analyze("samples/blocked-monolith", fail_on="mandatory")
        >>> report.recommendation["path"], report.failed
        ('container', True)
        >>> sorted({f["rule"] for f in report.findings})[:2]
        ['cuda-device-string', 'cuda-method-call']
    """
    return _analyze(path, rules=rules, fail_on=fail_on)
