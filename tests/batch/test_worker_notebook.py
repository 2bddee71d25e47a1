"""A worker's notebook, run and published from memory: the same files as papermill's way."""

import json
from pathlib import Path

import papermill
import pytest

import kpitools
from kpitools.batch import jobs
from kpitools.batch.jobs import ServiceJob
from kpitools.batch.portable import default_notebook
from kpitools.batch.shell import ENGINE, NotebookShell
from kpitools.report import export
from kpitools.report.plotly_js import plotly_js
from tests.conftest import COUNCIL_CONFIG, EXAMPLE, QUARTER

pytestmark = pytest.mark.slow  # the whole CPR notebook, twice


@pytest.fixture(scope="module")
def shell():
    """The kernel's shell, in this process (a kernel process runs one the same way)."""
    yield NotebookShell.instance()
    NotebookShell.clear_instance()


def test_the_notebook_from_memory_is_published_as_papermills_file_would_be(shell, tmp_path):
    notebook = str(default_notebook())
    job = ServiceJob(service="Finance", slug="finance", quarter=QUARTER, report_date="",
                     run_id="r1", data_dir=str(EXAMPLE), config=str(COUNCIL_CONFIG),
                     notebook=notebook)  # fmt: skip
    ours = tmp_path / "ours"
    ours.mkdir()
    executed = ours / "finance.ipynb"
    nb = jobs._execute(notebook, executed, job.parameters(job.data_dir, job.config, str(ours)),
                       shell)  # fmt: skip
    assert not executed.exists()  # a notebook that ran is not written
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    papermill.execute_notebook(notebook, str(theirs / "finance.ipynb"), engine_name=ENGINE,
                               parameters=job.parameters(job.data_dir, job.config, str(theirs)),
                               shell=shell, kernel_name="python3", progress_bar=False,
                               request_save_on_cell_execute=False,
                               cwd=str(Path(notebook).parent))  # fmt: skip
    filed = json.loads((theirs / "finance.ipynb").read_bytes())
    # The page, without the CPR charts' figures, is the page of the whole notebook.
    page = export.export_html(nb, title="Finance", footer="Northfield")
    settings = {"title": "Finance", "footer": "Northfield", "lang": "en-GB",
                "css": export.report_css(), "plotly_js": plotly_js(), "plotly_src": "",
                "version": kpitools.__version__}  # fmt: skip
    whole, _ = export._exporter().from_notebook_node(nb, resources={"kpitools": settings})
    assert page == whole
    assert page.count('class="plotly-graph-div"') >= 10
    assert job.published(nb) == job.published(filed)
    published = json.loads(job.published(nb))
    assert any("application/vnd.plotly.v1+json" in o.get("data", {})
               for cell in published["cells"] for o in cell.get("outputs", []))  # fmt: skip


def test_a_failed_cell_is_written_with_papermills_marks(shell, tmp_path):
    broken = tmp_path / "broken.ipynb"
    nb = json.loads(default_notebook().read_text(encoding="utf-8"))
    nb["cells"].insert(5, {"cell_type": "code", "execution_count": None, "id": "boom",
                           "metadata": {}, "outputs": [], "source": "1 / 0"})  # fmt: skip
    broken.write_text(json.dumps(nb), encoding="utf-8")
    executed = tmp_path / "out" / "x.ipynb"
    executed.parent.mkdir()
    parameters = {"data_dir": str(EXAMPLE), "service": "Finance", "quarter": QUARTER,
                  "output_dir": str(executed.parent), "council_config": str(COUNCIL_CONFIG),
                  "report_date": "", "run_id": "r1"}  # fmt: skip
    with pytest.raises(papermill.PapermillExecutionError, match="ZeroDivisionError"):
        jobs._execute(str(broken), executed, parameters, shell)
    written = json.loads(executed.read_bytes())
    assert "An Exception was encountered" in "".join(written["cells"][0]["source"])
