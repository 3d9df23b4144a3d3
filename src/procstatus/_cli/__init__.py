"""The ``procstatus`` command line: ``main.py`` dispatches, one module per command.

``common.py`` holds what the commands share; ``show.py``, ``top.py``,
``watch.py``, ``run.py`` and ``serve.py`` each read top to bottom as that command's story.
"""

from __future__ import annotations

from .main import main

__all__ = ["main"]
