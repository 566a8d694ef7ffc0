"""Build, check and package Socket Lab the same way on every system (``python -m tools.build``)."""
