"""Pure data the engines report and the GUI shows: events, traffic chunks, results and verdicts.
Imports only ``netcore.protocols`` and ``netcore.errors``, never an engine."""
