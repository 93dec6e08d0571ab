"""The append-only audit log every person-made change writes to."""
