"""Clients and servers (TCP/UDP echo, time, file fetch, packet sticking, relay), each driving codecs
from ``netcore.protocols`` on the loop of ``netcore.io`` and reporting ``netcore.model`` events."""
