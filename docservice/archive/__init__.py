"""The archive's building blocks: the Merkle log, signed tree heads, the document card."""
