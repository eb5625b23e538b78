"""The application for placement in the Adaptation and Integration Center (Order 331, Appendix 2).

The candidate asks the head of the local executive body in the sphere of migration
to place them and their family in the Center and to provide adaptation and
integration services; the direction (Appendix 1) is issued on this application
(point 4 of the Rules and terms of residence). The form asks only for the body's name, the
candidate's full name, the number of family members (the blank in its request
sentence, not counting the candidate), the date and the signature; the service
adds the candidate's IIN, by which it identifies people.
"""

from __future__ import annotations

from docservice.forms.common import person
from docservice.forms.fields import Date, Integer, Text
from docservice.forms.kind import Kind

#: the same bound as the family list of the direction issued on this application
MAX_MEMBERS = 50

KIND = Kind(
    name="center_application",
    source=(
        "Order No. 331-ө-м of 22 July 2013, Rules and terms of residence in the Center, Appendix 2"
    ),
    fields=(
        Text("authority", max_length=300),
        person("candidate", birth_date=False),
        Integer("family_members", minimum=0, maximum=MAX_MEMBERS),
        Date("application_date"),
    ),
)
