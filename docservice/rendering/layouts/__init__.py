"""One module per document kind, each with ``build(ctx) -> list[Flowable]``."""
