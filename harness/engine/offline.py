"""No network in a run process: an audit hook that fails every connect and name lookup.

Kaggle's code competitions run the submission notebook with the internet off; a solution
that downloads weights or calls a service at predict time cannot be submitted there, so the
harness makes it fail here, at once, with the phase named. Audit hooks cannot be removed:
install this only in a process that ends with the phase (the predict process). Unix-domain
sockets stay allowed: multiprocessing passes file descriptors between a data loader's
workers through them.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from harness.api import HarnessError

_LOOKUPS = ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr")
_CONNECTS = ("socket.connect", "socket.sendto")
_NETWORK_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class NetworkBlocked(HarnessError):
    """A run process tried to reach the network while offline."""


def forbid_network(phase: str) -> None:
    """From now on, this process's connects and lookups raise NetworkBlocked naming ``phase``."""

    def refuse(tried: str) -> None:
        raise NetworkBlocked(
            f"network access during {phase} is not allowed (offline, as Kaggle's code "
            f"competitions run): {tried}"
        )

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event in _LOOKUPS:
            if event == "socket.getaddrinfo" and args[1]:
                refuse(f"tried to reach {args[0]}:{args[1]}")
            refuse(f"tried to look up {args[0]}")
        elif event in _CONNECTS:
            sock, address = args[0], args[-1]
            if getattr(sock, "family", None) in _NETWORK_FAMILIES:
                refuse(f"tried to connect to {_describe(address)}")

    sys.addaudithook(hook)


def _describe(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)
