"""Feature flags: an Unleash-compatible evaluator, the PostgreSQL store, the Client SDK and its OpenFeature provider."""


def __getattr__(name):
    # Lazy, so `core.flags.evaluator` stays importable without the database layer.
    if name == "Client":
        from core.flags.client import Client

        return Client
    raise AttributeError(name)


__all__ = ["Client"]
