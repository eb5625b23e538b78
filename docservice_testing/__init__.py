"""Test doubles of the officials' signing apps: the NCALayer emulator and the eGov mobile
emulator. Installed with the service so that their console scripts work, but never imported
by the runtime (``tests/test_layering.py`` checks that)."""
