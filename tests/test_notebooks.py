"""Analyst notebooks: executed top to bottom, every figure shows, outputs are not committed."""

import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))

#: A code cell that draws: a plots.plot_* call, pyplot, a DataFrame .plot or EMA's PRIM plots.
PLOTTING = re.compile(r"plots\.plot_|plt\.|\.plot\.|show_tradeoff")


def test_there_are_the_four_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert names == [
        "01_telegram_2024_shock.ipynb",
        "02_policy_options.ipynb",
        "03_sweeps_and_scenario_discovery.ipynb",
        "04_network_fragmentation.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_and_every_plotting_cell_shows_an_image(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    errors = [o for c in code for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    plotting = [c for c in code if PLOTTING.search(c.source)]
    assert plotting, "the notebook draws no figure"
    blank = [
        c.source.splitlines()[0]
        for c in plotting
        if not any("image/png" in o.get("data", {}) for o in c.outputs)
    ]
    assert not blank, f"plotting cells without an image: {blank}"
    # no figure leaks out as its text repr instead of a picture
    texts = [
        o["data"]["text/plain"]
        for c in code
        for o in c.outputs
        if "text/plain" in o.get("data", {}) and "image/png" not in o.get("data", {})
    ]
    assert not [t for t in texts if t.startswith("<Figure size")]
