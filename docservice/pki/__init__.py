"""What an NCA RK certificate means, in one place for signing and verification alike.

Each concept has one module, and both ``signing`` and ``docservice.verification`` call it:

* :mod:`docservice.pki.roles` - the signer's capacity (role EKUs), policies, their labels;
* :mod:`docservice.pki.key_usage` - may this certificate make a document signature;
* :mod:`docservice.pki.person` - the subject read as a person: IIN, BIN, full name;
* :mod:`docservice.pki.anchors` - the operator's trust anchors.

Why below both: the stamp and the verification report must name one role the same way,
and signing must not accept what verification refuses (or the reverse). These modules
import nothing of ``signing``, ``docservice.rendering`` or ``docservice.verification``
(``tests/test_layering.py`` checks it).
"""
