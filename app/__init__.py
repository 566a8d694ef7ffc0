"""The Socket Lab application: main window, one page per tab, QThread workers."""
