"""The example notebook runs headlessly: the analysis report as HTML, then a sample migrated
and verified, with the verify report as HTML and as a DataFrame."""

import pathlib

import nbformat
from nbclient import NotebookClient

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"
REPO = pathlib.Path(__file__).resolve().parents[2]


def test_example_notebook_renders_the_report_and_verifies_a_sample(monkeypatch):
    # The glue builds into the tests' shared target directory, with the tests' glue profile.
    monkeypatch.setenv("CARGO_TARGET_DIR", str(REPO / "target" / "glue-target"))
    monkeypatch.setenv("CARGO_PROFILE_RELEASE_LTO", "off")
    monkeypatch.setenv("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
    monkeypatch.setenv("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1")
    notebook = nbformat.read(EXAMPLES / "analyze_a_service.ipynb", as_version=4)
    NotebookClient(notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}).execute()
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    html_outputs = [
        output["data"]["text/html"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]
    report_html = [h for h in html_outputs if "wasm-migrate-report" in h]
    assert report_html, "no cell shows the report as HTML"
    assert "process-subprocess" in report_html[0] and "cuda-method-call" in report_html[0]
    verify_html = [h for h in html_outputs if h.startswith("<!DOCTYPE html>") and "Stage 1" in h]
    assert verify_html, "no cell shows the verify report as HTML"
    assert "equivalent" in verify_html[0]
    # The DataFrame: one row per input (3), backend (tract) and output, every one passed.
    frames = [h for h in html_outputs if "max_abs" in h and "<table" in h and "dataframe" in h]
    assert frames, "no cell shows the verify rows as a DataFrame"
    assert frames[0].count("tract") == 3
