"""The example notebook runs headlessly and shows the report as HTML."""

import pathlib

import nbformat
from nbclient import NotebookClient

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def test_example_notebook_renders_the_report():
    notebook = nbformat.read(EXAMPLES / "analyze_a_service.ipynb", as_version=4)
    NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}).execute()
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
    errors = [o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
