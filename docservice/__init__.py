"""docservice: bilingual (Kazakh / Russian) official documents for kandas services.

Layers, each depending only on the ones before it:
forms (definitions, validation) -> rendering (XML, XSD, PDF/A) -> signing ->
verification -> archive -> HTTP / CLI.
"""

__version__ = "0.1.0"
