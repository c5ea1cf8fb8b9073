"""The warehouse's SQL files and the shim that runs them on DuckDB."""
