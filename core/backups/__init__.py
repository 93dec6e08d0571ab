"""Backups: pg_dump artifacts with checksums and manifests, storage targets, retention, verified restores and drills."""
