"""Jupyter kernels for the batch: local IPC sockets, not TCP ports."""

from __future__ import annotations

from jupyter_client.manager import AsyncKernelManager
from traitlets import default


class IpcKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels talk over IPC sockets.

    Reports never leave the machine over the network, no ports are taken, and the kernel
    does not warn about unencrypted TCP on every start.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"
