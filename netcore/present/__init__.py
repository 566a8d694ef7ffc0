"""Pure functions that turn model data into text for people: traffic exported as text, hex or CSV,
and the Python code a student would write for each setting of a tab."""
