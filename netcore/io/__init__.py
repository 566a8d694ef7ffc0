"""Everything that touches a socket or the operating system: the one event loop, TCP streams, name
resolution, and ``platform`` — the single module that knows how Windows, macOS and Linux differ."""
