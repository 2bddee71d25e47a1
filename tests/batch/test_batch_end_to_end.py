"""The quarterly batch: layout, fault isolation, interruption, incremental reruns, Dask."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from kpitools.batch.lock import LOCK_NAME
from tests.conftest import CHROMIUM, COUNCIL_CONFIG, EXAMPLE, ROOT, require
from tests.report.test_report_end_to_end import chromium_page

QUARTER = "2024-25-q1"
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

pytestmark = pytest.mark.slow  # real notebooks and kernels, in subprocesses


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "kpitools", "run", "--data", str(EXAMPLE), "--quarter",
            "2024/25 Q1", "--config", str(COUNCIL_CONFIG), *args]  # fmt: skip


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(command(*args), capture_output=True, text=True, env=ENV,
                            stdin=subprocess.DEVNULL, timeout=900, check=False)  # fmt: skip
    if check:
        assert result.returncode == 0, result.stderr
    return result


def manifest(root: Path) -> dict:
    return json.loads((root / QUARTER / "manifest.json").read_text(encoding="utf-8"))


def statuses(root: Path) -> dict[str, str]:
    return {slug: s["status"] for slug, s in manifest(root)["services"].items()}


def wait_until(condition, process: subprocess.Popen, seconds: float = 300) -> None:
    """Poll until ``condition()`` holds while the batch ``process`` is still running."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


def leftovers(root: Path) -> list[str]:
    """Anything half-written: staging folders, moved-aside reports, temporary files (the
    output folder's lock file is kept: the lock is released, the file stays)."""
    return [str(p) for p in root.rglob("*") if p.name.startswith(".") and p.name != LOCK_NAME]


def test_manifest_and_overview(tmp_path):
    run("--out", str(tmp_path), "--service", "Finance", "--service", "Adult Social Care")
    data = manifest(tmp_path)
    assert data["quarter"] == "2024/25 Q1"
    assert set(data["inputs"]) == {"measures.csv", "values.csv", "targets.csv", "comments.csv",
                                   "actions.csv", "benchmarks.csv"}  # fmt: skip
    assert len(data["notebook"]["sha256"]) == 64
    assert {"kpitools", "python-pptx", "papermill", "plotly"} <= set(data["packages"])
    finance = data["services"]["finance"]
    assert finance["status"] == "ok"
    timings = json.loads((tmp_path / QUARTER / "timings.json").read_text(encoding="utf-8"))
    assert timings["services"]["finance"]["seconds"] > 0
    assert finance["files"] == ["finance/finance.html", "finance/finance.ipynb",
                                "finance/finance.pptx", "finance/summary.json"]  # fmt: skip
    assert len(finance["cache_key"]) == 64 and finance["run_id"] == finance["cache_key"][:12]
    page = (tmp_path / QUARTER / "index.html").read_text(encoding="utf-8")
    assert '<a href="finance/finance.html">Finance</a>' in page
    assert 'href="adult-social-care/adult-social-care.pptx"' in page
    assert "Council tax collected (rolling 12 months)" in page  # an exception, listed
    log = (tmp_path / QUARTER / "finance" / "run.log").read_text()
    assert "status: ok" in log and "warning:" in log


@pytest.mark.slow
def test_overview_passes_axe(tmp_path):
    from axe_playwright_python.sync_playwright import Axe

    require(CHROMIUM)
    run("--out", str(tmp_path), "--service", "Waste & Environment")
    with chromium_page((tmp_path / QUARTER / "index.html").as_uri()) as page:
        results = Axe().run(page)
    serious = [v["id"] for v in results.response["violations"]
               if v["impact"] in ("serious", "critical")]  # fmt: skip
    assert serious == []


def with_analyst_cell(tmp_path: Path, source: str, cell_id: str, name: str) -> Path:
    """The CPR notebook with an analyst's cell of ``source`` after the report is built."""
    nb = nbformat.read(ROOT / "notebooks" / "cpr.ipynb", as_version=4)
    analyst = nbformat.v4.new_code_cell(source)
    analyst["id"] = cell_id
    position = next(i for i, c in enumerate(nb.cells) if "build_cpr" in c.source) + 1
    nb.cells.insert(position, analyst)
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def faulty_notebook(tmp_path: Path) -> Path:
    """The CPR notebook with an analyst's cell that breaks in three different ways."""
    return with_analyst_cell(
        tmp_path,
        'if service == "Finance":\n'
        '    raise RuntimeError("analyst cell broke")\n'
        'if service == "ICT & Digital":\n'
        "    import os\n"
        "    os._exit(1)  # the kernel dies\n"
        'if service == "Waste & Environment":\n'
        "    import time\n"
        "    time.sleep(600)  # hangs\n",
        "analyst-cell",
        "faulty.ipynb",
    )


def test_a_failing_service_fails_alone(tmp_path):
    out = tmp_path / "out"
    result = run("--out", str(out), "--notebook", str(faulty_notebook(tmp_path)), "--jobs", "2",
                 "--timeout", "10", "--service", "Finance", "--service", "ICT & Digital",
                 "--service", "Waste & Environment", "--service", "Adult Social Care",
                 check=False)  # fmt: skip
    assert result.returncode == 1
    assert statuses(out) == {
        "finance": "failed",
        "ict-and-digital": "failed",
        "waste-and-environment": "failed",
        "adult-social-care": "ok",
    }
    services = manifest(out)["services"]
    analyst_cell = services["finance"]["failed_cell"]

    def shown_as(slug: str) -> str:
        """The failing cell (the one with an error output) as the kept notebook shows it:
        the number Jupyter puts beside it (papermill's banner and the traceback use it)."""
        kept = nbformat.read(out / QUARTER / "failed" / slug / f"{slug}.ipynb", 4)
        errors = [c for c in kept.cells if any(o.get("output_type") == "error"
                                                for o in c.get("outputs", []))]  # fmt: skip
        [cell] = errors
        count = cell.get("execution_count")
        return f"cell In [{count}]" if count else f"cell {services[slug]['failed_cell']}"

    assert {services[s]["failed_cell"] for s in ("finance", "ict-and-digital")} == {analyst_cell}
    assert shown_as("finance").startswith("cell In [")
    assert (
        services["finance"]["error"] == f"{shown_as('finance')}: RuntimeError: analyst cell broke"
    )
    assert services["ict-and-digital"]["error"] == (
        f"{shown_as('ict-and-digital')}: the kernel stopped without answering (out of memory, "
        "killed or crashed)"
    )
    assert services["waste-and-environment"]["error"] == (
        f"{shown_as('waste-and-environment')}: still running after 10 s (the run's --timeout)"
    )
    for slug in ("finance", "ict-and-digital", "waste-and-environment"):
        kept = out / QUARTER / "failed" / slug
        assert (kept / "run.log").is_file()
        assert (kept / f"{slug}.ipynb").is_file(), slug  # for debugging
    executed = nbformat.read(out / QUARTER / "failed" / "finance" / "finance.ipynb", 4)
    [broken] = [c for c in executed.cells if "analyst cell broke" in json.dumps(c.get("outputs"))]
    assert broken.source.startswith('if service == "Finance":')
    assert sorted(p.name for p in (out / QUARTER / "adult-social-care").iterdir()) == [
        "adult-social-care.html", "adult-social-care.ipynb", "adult-social-care.pptx", "run.log",
        "summary.json",
    ]  # fmt: skip
    assert "Finance: FAILED: cell" in result.stderr
    assert "failed" in result.stderr and "Adult Social Care" in result.stderr  # summary table
    assert leftovers(out) == []


def test_a_reused_kernel_gives_the_same_reports_as_a_fresh_one(tmp_path):
    services = ["Customer Services", "Finance", "Children's Services"]
    reused = tmp_path / "reused"
    run("--out", str(reused), "--jobs", "1", *[a for s in services for a in ("--service", s)])
    fresh = tmp_path / "fresh"
    run("--out", str(fresh), "--jobs", "1", "--service", services[-1])
    slug = "childrens-services"
    for ext in (".pptx", ".html"):
        name = f"{slug}/{slug}{ext}"
        assert (reused / QUARTER / name).read_bytes() == (fresh / QUARTER / name).read_bytes()
    cells = [nbformat.read(root / QUARTER / slug / f"{slug}.ipynb", 4).cells
             for root in (reused, fresh)]  # fmt: skip
    assert [(c.get("execution_count"), c.get("outputs")) for c in cells[0]] == [
        (c.get("execution_count"), c.get("outputs")) for c in cells[1]
    ]


def test_sigterm_leaves_no_partial_files_and_a_rerun_finishes(tmp_path):
    out = tmp_path / "out"
    process = subprocess.Popen(command("--out", str(out), "--jobs", "1"), env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL)  # fmt: skip
    root = out / QUARTER
    wait_until(lambda: (root / "customer-services").exists(), process)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "Stopped by SIGTERM" in err.decode()
    assert leftovers(out) == []
    done = {slug for slug, status in statuses(out).items() if status == "ok"}
    assert "customer-services" in done and len(done) < 6
    for slug in done:  # what finished is complete
        assert len(list((root / slug).iterdir())) == 5
    for slug in set(statuses(out)) - done:
        assert not (root / slug).exists()
    # A rerun finishes the rest and skips what was done.
    rerun = run("--out", str(out), "--jobs", "2")
    assert set(statuses(out).values()) == {"ok", "skipped"}
    assert {s for s, v in statuses(out).items() if v == "skipped"} == done
    assert "up to date, skipped" in rerun.stderr
    # And another rerun has nothing to do: it says so and leaves the record as it was.
    before = (root / "manifest.json").read_bytes()
    again = run("--out", str(out))
    assert "nothing has changed since the last run" in again.stderr
    assert (root / "manifest.json").read_bytes() == before
    # Changing one service's data reruns that service only; --force reruns all.
    run("--out", str(out), "--force", "--service", "Finance")
    # The others stay in the record as they were, and the next plain run skips them all.
    after = statuses(out)
    assert len(after) == 6 and after.pop("finance") == "ok"
    assert set(after.values()) == {"skipped"}
    assert "up to date, skipped" in run("--out", str(out), "--jobs", "2").stderr
    assert set(statuses(out).values()) == {"skipped"}


def test_safe_folder_names(tmp_path, make_data):
    names = ["../../etc", "Children's Services", "Childrens Services", "Αθήνα", "index", ".hidden"]
    measures = "".join(f'M{i},"{n}",Measure {i},up,percent,90\n' for i, n in enumerate(names))
    data = make_data(
        measures="measure_id,service,title,polarity,unit,target\n" + measures,
        values="measure_id,period,value\n" + "".join(f"M{i},2024-06,95\n" for i in range(6)),
    )
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "kpitools", "run", "--data", str(data), "--quarter",
                    "latest", "--out", str(out), "--jobs", "2"], env=ENV, check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)  # fmt: skip
    root = out / QUARTER
    folders = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert len(folders) == 6
    assert "etc" in folders and "childrens-services" not in folders
    assert sum(f.startswith("childrens-services-") for f in folders) == 2
    assert all(f.startswith("service-") or f[0].isalnum() for f in folders)
    assert "index" not in folders and not any(f.startswith(".") for f in folders)
    # Nothing escaped --out (runs.json records the command, for a rerun with nothing to do).
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, QUARTER, "runs.json"]
    assert not (tmp_path / "etc").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dask_cluster():
    """A real Dask scheduler and two worker processes on loopback."""
    pytest.importorskip("distributed")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1",
              "--no-dashboard", "--host", "127.0.0.1"]  # fmt: skip
    processes = [subprocess.Popen([*dask, "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], env=ENV, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)]  # fmt: skip
    time.sleep(1)
    # One worker without a nanny, so killing it takes it away for good.
    quiet = {"env": ENV, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    processes.append(subprocess.Popen([*worker, "--no-nanny"], **quiet))
    processes.append(subprocess.Popen(worker, env=ENV, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))  # fmt: skip
    from distributed import Client

    with Client(address, timeout="60s") as client:
        client.wait_for_workers(2, timeout=120)
    yield address, processes[1]
    for process in reversed(processes):
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # a worker without a nanny may linger in its close
            process.kill()
            process.wait(timeout=60)


@pytest.mark.slow
def test_dask_cluster_survives_a_killed_worker(tmp_path, dask_cluster):
    address, doomed = dask_cluster
    out = tmp_path / "out"
    batch = subprocess.Popen(command("--out", str(out), "--scheduler", address), env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)  # fmt: skip
    root = out / QUARTER
    wait_until(lambda: any(p.is_dir() and not p.name.startswith(".") for p in root.glob("*")),
               batch)  # fmt: skip
    assert batch.poll() is None  # the batch is still going when the worker dies
    doomed.kill()
    _, err = batch.communicate(timeout=600)
    assert batch.returncode == 0, err
    assert set(statuses(out).values()) == {"ok"}
    assert len(statuses(out)) == 6
    for slug in statuses(out):
        assert len(list((root / slug).iterdir())) == 5
    assert leftovers(out) == []
    # The same bytes as a local run: workers had no access to this disk.
    local = tmp_path / "local"
    run("--out", str(local), "--service", "Finance")
    for ext in (".pptx", ".html"):
        name = f"finance/finance{ext}"
        assert (root / name).read_bytes() == (local / QUARTER / name).read_bytes()


def kernel_processes(parent: int) -> list[int]:
    """The batch's processes running kpitools.batch.kernel: its kernels and, on Linux, the
    spawner they are forked from (its child), and the kernels (the spawner's)."""
    found = []
    for pid in Path(f"/proc/{parent}/task/{parent}/children").read_text().split():
        try:
            if b"kpitools.batch.kernel" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found += [int(pid), *kernel_processes(int(pid))]
        except OSError:  # it has just ended
            continue
    return found


def kernel_pids(parent: int) -> list[int]:
    """The batch's kernels: the processes running kpitools.batch.kernel with none of their
    own (the spawner has the kernels it forked)."""
    return [pid for pid in kernel_processes(parent) if not kernel_processes(pid)]


def test_a_kernel_killed_from_outside_costs_at_most_its_own_service(tmp_path):
    """As the system's out-of-memory killer might: the service it was building fails, named,
    and the batch goes on with a new kernel."""
    out = tmp_path / "out"
    batch = subprocess.Popen(command("--out", str(out), "--jobs", "2"), env=ENV,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             stdin=subprocess.DEVNULL)  # fmt: skip
    root = out / QUARTER
    wait_until(lambda: any(p.is_dir() and not p.name.startswith(".") for p in root.glob("*")),
               batch)  # fmt: skip
    victims = kernel_pids(batch.pid)
    assert len(victims) == 2 and batch.poll() is None
    os.kill(victims[0], signal.SIGKILL)
    _, err = batch.communicate(timeout=600)
    services = manifest(out)["services"]
    failed = {slug: s["error"] for slug, s in services.items() if s["status"] != "ok"}
    assert len(services) == 6 and len(failed) <= 1, failed
    assert all("the kernel stopped without answering" in e for e in failed.values())
    assert batch.returncode == (1 if failed else 0), err
    assert leftovers(out) == []


def test_the_same_inputs_in_two_folders_give_the_same_bytes(tmp_path):
    """No machine's paths, times or random ids in anything published (timings.json is this
    run's own measurements)."""
    import shutil

    trees = []
    for where in (tmp_path / "one", tmp_path / "two" / "deeper"):
        shutil.copytree(EXAMPLE, where / "data" / "example")
        shutil.copytree(COUNCIL_CONFIG.parent, where / "params")
        result = subprocess.run(
            [sys.executable, "-m", "kpitools", "run", "--data", "data/example", "--quarter",
             "2024/25 Q1", "--config", "params/council.yaml", "--out", "outputs",
             "--service", "Finance"],
            capture_output=True, text=True, env=ENV, stdin=subprocess.DEVNULL, timeout=900,
            check=False, cwd=where,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        root = where / "outputs" / QUARTER
        trees.append(
            {str(p.relative_to(root)): p.read_bytes()
             for p in sorted(root.rglob("*")) if p.is_file() and p.name != "timings.json"}
        )  # fmt: skip
        for name, blob in trees[-1].items():
            assert str(tmp_path).encode() not in blob, name
            assert b"/tmp/" not in blob and str(ROOT).encode() not in blob, name
        # The published notebook names its data relative to its own folder.
        nb = nbformat.read(root / "finance" / "finance.ipynb", 4)
        shown = nb.metadata["papermill"]["parameters"]
        assert (root / "finance" / shown["data_dir"]).resolve() == where / "data" / "example"
        assert shown["output_dir"] == "." and nb.metadata["papermill"]["input_path"] == (
            "kpitools:cpr.ipynb"
        )
    assert sorted(trees[0]) == sorted(trees[1])
    assert [n for n in trees[0] if trees[0][n] != trees[1][n]] == []


def analyst_notebook(tmp_path: Path) -> Path:
    """The CPR notebook with an analyst's cells: a plotly figure comparing every service, a
    DataFrame and a markdown note."""
    nb = nbformat.read(ROOT / "notebooks" / "cpr.ipynb", as_version=4)
    cells = [
        nbformat.v4.new_code_cell(
            "import plotly.graph_objects as go\n"
            "everyone = kpitools.rate(kpitools.load(data_dir, config=config), period=quarter)\n"
            "reds = everyone[everyone['rag'] == 'red'].groupby('service').size()\n"
            "go.Figure(go.Bar(x=list(reds.index), y=[int(n) for n in reds]),\n"
            "          layout={'title': {'text': 'Red measures by service'}})"
        ),
        nbformat.v4.new_code_cell("reds.rename('red measures').to_frame()"),
        nbformat.v4.new_code_cell(
            "from IPython.display import Markdown\nMarkdown('**Analyst note:** reds compared.')"
        ),
    ]
    for number, cell in enumerate(cells):
        cell["id"] = f"analyst-{number}"
    position = next(i for i, c in enumerate(nb.cells) if "build_cpr" in c.source) + 1
    nb.cells[position:position] = cells
    path = tmp_path / "analyst.ipynb"
    nbformat.write(nb, path)
    return path


def test_an_analysts_cells_are_in_the_report_and_never_left_stale(tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data)
    notebook = analyst_notebook(tmp_path)
    out = tmp_path / "out"
    args = ["run", "--data", str(data), "--quarter", "2024/25 Q1", "--config",
            str(COUNCIL_CONFIG), "--out", str(out), "--notebook", str(notebook)]  # fmt: skip

    def batch(*services: str) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "kpitools", *args,
             *[a for s in services for a in ("--service", s)]],
            capture_output=True, text=True, env=ENV, stdin=subprocess.DEVNULL, timeout=900,
            check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr

    batch("Finance", "Waste & Environment")
    page = out / QUARTER / "finance" / "finance.html"
    text = page.read_text(encoding="utf-8")
    assert text.count("<script>") >= 1 and text.count("plotly.js v") == 1  # plotly.js once
    assert "Red measures by service</figcaption>" in text
    assert '<th scope="row">Series 1</th><td>Children&#x27;s Services</td>' in text or (
        "<td>Children's Services</td>" in text
    )
    assert 'class="dataframe"' in text and "red measures" in text
    assert "<strong>Analyst note:</strong> reds compared." in text
    from axe_playwright_python.sync_playwright import Axe

    with chromium_page(page.as_uri()) as browser_page:
        drawn = browser_page.locator(".chart-plot .plotly-graph-div .main-svg").count()
        assert drawn >= 3  # the analyst's chart too, drawn with the page's plotly.js, offline
        violations = Axe().run(browser_page).response["violations"]
    assert [v["id"] for v in violations if v["impact"] in ("serious", "critical")] == []

    # Another service's data changes: the Finance report compares every service, so it is
    # rebuilt, not skipped.
    values = data / "values.csv"
    lines = values.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line.startswith("WST_FN_01,2024-06,"))
    fields = lines[row].split(",")
    fields[2] = "150"
    lines[row] = ",".join(fields)
    values.write_text("".join(lines), encoding="utf-8")
    batch("Finance")
    assert statuses(out)["finance"] == "ok"
    before = text
    assert page.read_text(encoding="utf-8") != before  # Waste's new red is in Finance's chart


def test_plotly_js_once_in_the_period_folder_draws_the_same_charts_offline(tmp_path):
    run("--out", str(tmp_path), "--service", "Finance", "--no-pack")
    inline = tmp_path / QUARTER / "finance" / "finance.html"
    inline_size = inline.stat().st_size
    run("--out", str(tmp_path), "--service", "Finance", "--no-pack", "--plotly-js", "folder")
    assert statuses(tmp_path) == {"finance": "ok"}  # another way of writing: built again
    shared = tmp_path / QUARTER / "plotly.min.js"
    page = inline.read_text(encoding="utf-8")
    assert '<script src="../plotly.min.js"></script>' in page
    assert shared.stat().st_size > 3_000_000
    assert inline.stat().st_size < inline_size - 3_000_000
    assert inline.stat().st_size < 600_000
    require(CHROMIUM)
    with chromium_page(inline.as_uri()) as browser_page:
        assert browser_page.locator(".plotly-graph-div .main-svg").count() >= 2
    folder = ["--out", str(tmp_path), "--service", "Finance", "--no-pack", "--plotly-js", "folder"]
    assert "nothing has changed since the last run" in run(*folder).stderr
    shared.unlink()  # the pages' plotly.js gone: the whole run, which puts it back
    again = run(*folder)
    assert "nothing has changed" not in again.stderr
    assert statuses(tmp_path) == {"finance": "skipped"}, again.stdout
    assert shared.stat().st_size > 3_000_000


def councils_file(tmp_path: Path, broken: bool = False) -> Path:
    """Two councils on the example data (one with its configuration, one on the defaults),
    and with ``broken`` a third whose data folder has no values file."""
    text = (f"councils:\n  - name: North Shire\n    data: {EXAMPLE}\n    config: {COUNCIL_CONFIG}\n"
            f"  - name: South Vale\n    data: {EXAMPLE}\n")  # fmt: skip
    if broken:
        (tmp_path / "broken").mkdir(exist_ok=True)
        (tmp_path / "broken" / "measures.csv").write_text("measure_id,service\n", encoding="utf-8")
        text += "  - name: Broken Borough\n    data: broken\n"
    path = tmp_path / "councils.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def run_councils(path: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpitools", "run-councils", str(path),
                           "--period", "2024/25 Q1", "--out", str(out), "--no-pack-pdf", *args],
                          capture_output=True, text=True, env=ENV, stdin=subprocess.DEVNULL,
                          timeout=900, check=False)  # fmt: skip


def test_a_run_of_councils_refuses_a_bad_one_and_builds_the_others(tmp_path):
    out = tmp_path / "out"
    result = run_councils(councils_file(tmp_path, broken=True), out, "--jobs", "2")
    assert result.returncode == 2, result.stderr
    assert "Broken Borough: refused, 3 problems in its inputs; nothing written for it:" in (
        result.stderr
    )
    assert "values.csv: is missing: it is required" in result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, "north-shire", "south-vale"]
    for council in ("north-shire", "south-vale"):
        assert set(statuses(out / council).values()) == {"ok"}
        assert len(statuses(out / council)) == 6
        assert (out / council / QUARTER / "board-pack.pptx").is_file()
    north = (out / "north-shire" / QUARTER / "index.html").read_text(encoding="utf-8")
    south = (out / "south-vale" / QUARTER / "index.html").read_text(encoding="utf-8")
    assert "Northfield" in north and "Northfield" not in south  # each its own configuration
    # The second run finds everything up to date (exit 2 again: the bad council is still bad).
    again = run_councils(councils_file(tmp_path, broken=True), out, "--jobs", "2")
    assert again.returncode == 2 and "│ North Shire │ 0     │ 6 " in again.stderr
    assert leftovers(out) == []


@pytest.mark.slow
def test_a_run_of_councils_on_a_dask_cluster_sends_each_council_its_own_inputs(
    tmp_path, dask_cluster
):
    address, _ = dask_cluster
    out = tmp_path / "out"
    result = run_councils(councils_file(tmp_path), out, "--scheduler", address, "--no-pack")
    assert result.returncode == 0, result.stderr
    local = tmp_path / "local"
    run("--out", str(local), "--service", "Finance")
    name = "finance/finance.pptx"
    north = (out / "north-shire" / QUARTER / name).read_bytes()
    assert north == (local / QUARTER / name).read_bytes()
    assert (out / "south-vale" / QUARTER / name).read_bytes() != north  # no logo, other name
    for council in ("north-shire", "south-vale"):
        assert set(statuses(out / council).values()) == {"ok"}


def test_the_same_command_again_with_nothing_changed_answers_at_once(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE, data)
    out = tmp_path / "out"
    args = [sys.executable, "-m", "kpitools", "run", "--data", str(data), "--quarter",
            "2024/25 Q1", "--config", str(COUNCIL_CONFIG), "--out", str(out), "--service",
            "Finance", "--no-pack-pdf"]  # fmt: skip

    def again() -> subprocess.CompletedProcess:
        result = subprocess.run(args, capture_output=True, text=True, env=ENV,
                                stdin=subprocess.DEVNULL, timeout=900, check=False)  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result

    first = again()
    assert "nothing has changed" not in first.stderr
    deck = (out / QUARTER / "finance" / "finance.pptx").read_bytes()
    second = again()
    assert "2024/25 Q1 CPRs: nothing has changed since the last run" in second.stderr
    assert "up to date, skipped: Finance" in second.stderr
    assert "│ Finance │ skipped │" in second.stderr
    # The file's bytes changed (its line ends), not its rows: the whole run, which finds
    # Finance's rows unchanged and skips it.
    values = data / "values.csv"
    values.write_text(values.read_text(encoding="utf-8").replace("\n", "\r\n"), encoding="utf-8")
    third = again()
    assert "nothing has changed" not in third.stderr
    assert "up to date, skipped: Finance" in third.stderr
    assert (out / QUARTER / "finance" / "finance.pptx").read_bytes() == deck
    assert "nothing has changed" in again().stderr
    assert leftovers(out) == []
