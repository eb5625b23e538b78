"""The service: storage, the domain functions the CLI and HTTP share, the /v1 API.

Layers inside, depending one way: ``config`` (environment) -> ``models`` / ``db``
(SQLAlchemy 2, Alembic) and ``store`` (content-addressed files) -> ``clients``, ``keys``,
``documents`` (domain functions) -> ``api`` (the Flask blueprint) -> ``app`` (the factory
that mounts it with the verification page) -> ``server`` (gunicorn).
"""
