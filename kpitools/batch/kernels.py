"""Jupyter kernels for the batch: kept warm between notebooks, talking over IPC sockets.

Starting a kernel and importing pandas, plotly and python-pptx costs more than building a
deck, so each batch worker keeps one kernel: started once, the libraries imported, and its
namespace reset (``InteractiveShell.reset(new_session=True)``, which also restarts the
execution count) before every notebook, so a notebook sees what a fresh kernel would. A kernel
that dies or hangs is replaced and the batch goes on.

The reset clears the notebook's variables, not the state of imported modules: an analyst cell
that changes library settings (``pd.set_option``, plotly defaults) should set them back, or
the council should run its own notebooks with ``--jobs`` workers knowing this.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
from pathlib import Path
from typing import Any

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from jupyter_core.utils import run_sync
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.utils import merge_kwargs, remove_args
from traitlets import default

ENGINE = "kpitools"
WARM_UP = (
    "import kpitools, kpitools.report.charts, kpitools.report.fragments, plotly.io\n"
    # exit() or quit() in a cell would end the kernel after the cell, and the notebook fail
    # cells later as a dead kernel: it fails the cell that called it instead.
    "def _kpitools_exit(*args, **kwargs):\n"
    "    raise RuntimeError('exit() and quit() would stop the kernel in the middle of the "
    "report: a CPR notebook runs to its last cell')\n"
    "get_ipython().ask_exit = _kpitools_exit\n"
    "del _kpitools_exit"
)
RESET = "get_ipython().reset(new_session=True)"
_SOCKET_NAMES = itertools.count()


#: The longest path of a Unix socket (``sun_path``, 108 bytes with its NUL, on Linux), less
#: the ``-<port>`` suffix jupyter_client adds to each of a kernel's five sockets.
_MAX_SOCKET_BASE = 107 - len("-65535")


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels talk over IPC sockets.

    Reports never leave the machine over the network, no ports are taken, and the kernel
    does not warn about unencrypted TCP on every start. Where the scratch folder's path is
    too long for a socket's name (a deep ``TMPDIR``), the kernel talks over loopback TCP.
    """

    @default("transport")
    def _default_transport(self) -> str:
        longest = _socket_folder() / f"kpitools-{os.getpid()}-{'9' * 10}"
        return "ipc" if len(os.fsencode(str(longest))) <= _MAX_SOCKET_BASE else "tcp"

    @default("ip")
    def _default_ip(self) -> str:
        if self.transport != "ipc":
            return "127.0.0.1"
        # IPC sockets are files named after `ip`: an absolute path, so the kernel (which may
        # run in another folder) and this process find the same sockets.
        folder = _socket_folder()
        folder.mkdir(parents=True, exist_ok=True)
        return str(folder / f"kpitools-{os.getpid()}-{next(_SOCKET_NAMES)}")


def _socket_folder() -> Path:
    return Path(jupyter_runtime_dir())


class KernelError(Exception):
    """The warm kernel could not be started or reset."""


class WarmKernel:
    """One kernel, and one client connected to it, reused for many notebooks."""

    def __init__(self, kernel_name: str = "python3", cwd: str | Path | None = None):
        self.kernel_name = kernel_name
        self.cwd = str(cwd) if cwd else None
        self.km: IpcKernelManager | None = None
        self.kc: Any = None
        self.notebooks = 0

    def start(self) -> None:
        run_sync(self._start)()

    async def _start(self) -> None:
        self.km = IpcKernelManager(kernel_name=self.kernel_name)
        # The kernel process's own log lines (not cell output, which comes over IPC) would
        # scribble over the batch's progress display.
        await self.km.start_kernel(
            cwd=self.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=120)
        reply = await self.kc.execute_interactive(
            WARM_UP, silent=True, store_history=False, timeout=120
        )
        if reply["content"]["status"] != "ok":
            content = reply["content"]
            raise KernelError(f"{content.get('ename')}: {content.get('evalue')}")

    def ready(self) -> WarmKernel:
        """This kernel, started (again) if it is not running."""
        if self.km is None or not run_sync(self.km.is_alive)():
            self.shutdown()
            self.start()
        self.notebooks += 1
        return self

    @property
    def needs_reset(self) -> bool:
        """Whether a notebook already ran here, so the namespace must be reset first."""
        return self.notebooks > 1

    def replace(self) -> None:
        """Throw the kernel away (after a crash or a hang); the next notebook starts a new one."""
        self.shutdown()

    def shutdown(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
            self.kc = None
        if self.km is not None:
            with contextlib.suppress(Exception):
                run_sync(self.km.shutdown_kernel)(now=True)
            self.km = None
        self.notebooks = 0


class _WarmClient(PapermillNotebookClient):
    """papermill's notebook client on a warm kernel: resets its namespace first."""

    def __init__(self, nb_man: Any, warm: WarmKernel, **kw: Any):
        super().__init__(nb_man, km=warm.km, **kw)
        self.kc = warm.kc  # the warm kernel's client: no new channels per notebook
        self._warm = warm
        self.current_cell: int | None = None

    def execute_cell(self, cell: Any, cell_index: int, *args: Any, **kw: Any) -> Any:
        self.current_cell = cell_index  # to name the cell if the kernel dies or hangs in it
        return super().execute_cell(cell, cell_index, *args, **kw)

    def papermill_execute_cells(self) -> None:
        if self._warm.needs_reset:
            reply = self.wait_for_reply(self.kc.execute(RESET, silent=True, store_history=False))
            if reply is None or reply["content"]["status"] != "ok":
                raise KernelError("the kernel's namespace could not be reset")
        super().papermill_execute_cells()


class ReusedKernelEngine(NBClientEngine):
    """papermill's nbclient engine on a :class:`WarmKernel` (passed as ``warm=``).

    It reuses the kernel's client instead of opening one per notebook, resets the namespace
    before each notebook after the first, and hands the notebook being run to the caller when
    a cell fails, so the failing cell can be named even when the kernel died or timed out.
    """

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: int | None = None,
        **kwargs: Any,
    ) -> Any:
        kwargs = remove_args(["input_path"], **kwargs)
        safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
        final_kwargs = merge_kwargs(
            safe_kwargs,
            timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
            startup_timeout=start_timeout,
            kernel_name=kernel_name,
            log_output=log_output,
            stdout_file=stdout_file,
            stderr_file=stderr_file,
        )
        warm = final_kwargs.pop("warm")
        client = _WarmClient(nb_man, warm, **final_kwargs)
        try:
            return client.execute()
        except BaseException as err:
            err.kpitools_notebook = nb_man.nb  # type: ignore[attr-defined]
            cell = client.current_cell
            err.kpitools_cell = None if cell is None else cell + 1  # type: ignore[attr-defined]
            raise


papermill_engines.register(ENGINE, ReusedKernelEngine)
