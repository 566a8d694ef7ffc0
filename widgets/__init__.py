"""Reusable Qt widgets and models: they know bytes and spans, never sockets."""
