"""Socket Lab's network core: codecs, clients, servers, errors and CLI. Pure stdlib, never Qt."""

__version__ = "0.1.0"
