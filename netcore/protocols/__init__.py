"""Sans-I/O codecs and pure functions over bytes: framing, time protocols, the file header, probes,
payload parsing, addresses, hexdumps, export and the Python code the GUI shows. No sockets here."""
