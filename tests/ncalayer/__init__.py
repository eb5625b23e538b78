"""NCALayer client signing: protocol, emulator, two-phase service side, browser script."""
