"""NCALayer-style client signing: the protocol, an emulator, and (in
:mod:`signing.twophase`) the service side of the two phases."""
