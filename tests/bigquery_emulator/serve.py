"""Start bqemulator with its DuckDB `spatial` extension made optional.

bqemulator downloads DuckDB's spatial extension at start-up and refuses to start without
it; this machine (and CI) reach no extension repository. The project stores no GEOGRAPHY,
so the wrapper lets start-up go on without it: a GEOGRAPHY query would fail, nothing else.
Run with the emulator's own interpreter: `.venv-bigquery-emulator/bin/python serve.py start ...`.
"""

from __future__ import annotations

import logging

from bqemulator.cli import main
from bqemulator.storage import engine

_load_spatial = engine.DuckDBEngine._load_spatial


def _best_effort_spatial(self: engine.DuckDBEngine) -> None:
    try:
        _load_spatial(self)
    except Exception as exc:  # the emulator's InternalError wrapping DuckDB's IO error
        logging.getLogger("bqemulator-wrapper").warning("spatial extension unavailable: %s", exc)


engine.DuckDBEngine._load_spatial = _best_effort_spatial  # type: ignore[method-assign]

if __name__ == "__main__":
    main()
