"""The electronic application of the "Электронное обращение" service (Order No. 109, Appendix).

Source: Order No. 109 of 25 March 2020, Rules for providing some state services
in the social and labour sphere during the state of emergency, Appendix: the
form of the electronic application sent through the "Электронное обращение"
service of the e-government portal. The fields are the form's lines in its
order. The patronymic is optional because not every applicant has one (the
forms of the Rules 2024 write "әкесінің аты (бар болса)"); the content is free
text of any length; the attached documents are a table of any number of rows
whose "№ п/п" column is the row's position, so it is not an input.
"""

from docservice.forms.fields import Email, Group, Iin, Integer, Name, Phone, Text
from docservice.forms.kind import Kind

KIND = Kind(
    name="e_appeal",
    source="Order No. 109 of 25 March 2020, Rules (state of emergency), Appendix",
    fields=(
        Iin("iin"),
        Name("surname", max_length=100),
        Name("name", max_length=100),
        Name("patronymic", required=False, max_length=100),
        Email("email"),
        Text("postal_address", max_length=500),
        Phone("phone"),
        Text("service_name", max_length=500),
        Text("region", max_length=200),
        Text("recipient", max_length=500),
        Text("content", max_length=50_000, multiline=True),
        Group(
            "documents",
            required=False,
            item="document",
            max_items=1000,
            fields=(
                Text("name", max_length=500),
                Integer("sheets", minimum=1, maximum=10_000),
                Text("note", required=False, max_length=500),
            ),
        ),
    ),
)
