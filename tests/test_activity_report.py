"""The activity report (Rules p. 35-37): evidence embedded as PDF/A-3 files with SHA-256, place."""

from __future__ import annotations

import base64
import copy
import hashlib
import io

import pikepdf
import pytest
from lxml import etree

from docservice.cli import main
from docservice.errors import InputError
from docservice.forms.activity_report import KIND, FileContent
from docservice.forms.fields import Errors
from docservice.render import render

from .conftest import example, pdf_text, squash

NS = {"a": "urn:kz:docservice:activity_report:v1"}


def _errors(data: dict, lang: str = "kk") -> list[tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        render("activity_report", data, lang)
    return [(e.path, e.code) for e in caught.value.errors]


def test_each_evidence_file_is_embedded_and_its_sha256_in_the_xml_matches_what_is_extracted():
    data = example("activity_report")
    out = render("activity_report", data, "kk+ru")
    doc = etree.fromstring(out.xml)
    files = doc.findall("a:evidence/a:file", NS)
    assert len(files) == 2
    with pikepdf.open(io.BytesIO(out.pdf)) as pdf:
        assert [
            str(spec.obj.AFRelationship)
            for spec in (pdf.attachments[n] for n in sorted(pdf.attachments))
        ] == ["/Data", "/Supplement", "/Supplement"]
        for given, node in zip(data["evidence"], files, strict=True):
            name = node.findtext("a:embedded_as", namespaces=NS)
            extracted = pdf.attachments[name].get_file()
            content = extracted.read_bytes()
            assert content == base64.b64decode(given["content"])
            assert node.findtext("a:sha256", namespaces=NS) == hashlib.sha256(content).hexdigest()
            assert node.findtext("a:size", namespaces=NS) == str(len(content))
            assert str(extracted.mime_type) == given["media_type"]
    # the bytes are in the PDF, never in the XML
    assert doc.find(".//a:content", NS) is None
    assert data["evidence"][0]["content"][:40].encode() not in out.xml


def test_the_digest_service_person_and_place_are_printed():
    out = render("activity_report", example("activity_report"), "ru", validate_pdfa=False)
    printed = squash(pdf_text(out.pdf))
    digest = etree.fromstring(out.xml).findtext("a:evidence/a:file/a:sha256", namespaces=NS)
    assert squash(digest) in printed
    assert squash("7. Содействие в регистрации по месту жительства") in printed
    assert squash("широта 47.964512, долгота 80.439871 (WGS 84)") in printed
    assert squash("Кандас: Нұрланұлы Ерболат, ИИН 850314387792") in printed


def test_a_file_whose_bytes_are_not_its_declared_type_is_refused():
    data = copy.deepcopy(example("activity_report"))
    data["evidence"][0]["media_type"] = "image/png"
    assert _errors(data) == [("evidence[0].content", "not_media_type")]
    data["evidence"][0]["media_type"] = "video/mp4"
    assert _errors(data) == [("evidence[0].content", "not_media_type")]


def test_an_mp4_video_is_recognised_by_its_ftyp_box():
    data = copy.deepcopy(example("activity_report"))
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
    data["evidence"].append(
        {
            "kind": "video",
            "file_name": "kurs-1.mp4",
            "media_type": "video/mp4",
            "content": base64.b64encode(video).decode(),
        }
    )
    doc = etree.fromstring(render("activity_report", data, "kk", validate_pdfa=False).xml)
    assert (
        doc.findall("a:evidence/a:file", NS)[-1].findtext("a:sha256", namespaces=NS)
        == hashlib.sha256(video).hexdigest()
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"content": "not base64!"}, ("evidence[0].content", "not_base64")),
        ({"file_name": "../../etc/passwd"}, ("evidence[0].file_name", "bad_file_name")),
        ({"media_type": "application/x-msdownload"}, ("evidence[0].media_type", "not_in_choices")),
    ],
)
def test_bad_evidence_is_named(change, expected):
    data = copy.deepcopy(example("activity_report"))
    data["evidence"][0] |= change
    assert _errors(data) == [expected]


def test_evidence_is_required_and_names_are_used_once():
    data = example("activity_report") | {"evidence": []}
    assert _errors(data) == [("evidence", "required")]
    data = copy.deepcopy(example("activity_report"))
    data["evidence"][1]["file_name"] = data["evidence"][0]["file_name"]
    data["evidence"][1]["media_type"] = "image/jpeg"
    data["evidence"][1]["content"] = data["evidence"][0]["content"]
    assert _errors(data) == [("evidence[1].file_name", "duplicate")]


def test_a_file_over_the_limit_is_refused_before_it_is_decoded():
    errors = Errors()
    assert (
        FileContent("content", max_bytes=10).clean(
            base64.b64encode(b"x" * 30).decode(), "evidence[0].content", errors
        )
        is None
    )
    assert [(e.path, e.code) for e in errors] == [("evidence[0].content", "file_too_large")]


@pytest.mark.parametrize(("lat", "lon"), [(80.439871, 47.964512), (0, 0), (47.9, 200)])
def test_a_place_outside_kazakhstan_is_refused(lat, lon):
    data = copy.deepcopy(example("activity_report"))
    data["geolocation"] |= {"latitude": lat, "longitude": lon}
    paths = {p for p, code in _errors(data, "ru") if code == "outside_kazakhstan"}
    assert paths and paths <= {"geolocation.latitude", "geolocation.longitude"}


def test_a_coordinate_must_be_a_number():
    data = copy.deepcopy(example("activity_report"))
    data["geolocation"]["latitude"] = "47.96"
    assert _errors(data) == [("geolocation.latitude", "not_number")]


def test_the_json_schema_takes_the_file_as_base64_and_the_xsd_never_holds_it():
    schema = KIND.json_schema()
    item = schema["properties"]["evidence"]["items"]
    assert item["properties"]["content"]["contentEncoding"] == "base64"
    assert "sha256" not in item["properties"]
    from docservice.rendering.xsd import generate

    assert 'name="content"' not in generate(KIND) and 'name="sha256"' in generate(KIND)


def test_the_report_follows_the_activity():
    data = example("activity_report") | {"report_date": "2026-11-08"}
    assert _errors(data) == [("report_date", "date_before")]


def test_cli_renders_the_example(tmp_path):
    assert (
        main(
            [
                "render",
                "activity_report",
                "--lang",
                "kk",
                "--data",
                "examples/activity_report.json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert (tmp_path / "activity_report-kk.pdf").read_bytes().startswith(b"%PDF-")


def test_a_signed_report_keeps_its_evidence_and_verifies(pki, tmp_path, capsys):
    """The career-centre employee signs (PAdES, incremental): files and signature both hold."""
    import json
    import shutil

    (tmp_path / "password").write_text(pki.password, encoding="utf-8")
    trust = tmp_path / "trust"
    trust.mkdir()
    shutil.copy(pki.root_pem, trust / "root.pem")
    assert (
        main(
            [
                "render",
                "activity_report",
                "--lang",
                "kk+ru",
                "--data",
                "examples/activity_report.json",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    signed = tmp_path / "signed.pdf"
    assert (
        main(
            [
                "sign",
                str(tmp_path / "activity_report-kk-ru.pdf"),
                "--key",
                str(pki.p12("career")),
                "--password-file",
                str(tmp_path / "password"),
                "--out",
                str(signed),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["verify", str(signed), "--trust", str(trust), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "TOTAL_PASSED"
    xml = etree.fromstring((tmp_path / "activity_report-kk-ru.xml").read_bytes())
    with pikepdf.open(signed) as pdf:
        for node in xml.findall("a:evidence/a:file", NS):
            content = (
                pdf.attachments[node.findtext("a:embedded_as", namespaces=NS)]
                .get_file()
                .read_bytes()
            )
            assert hashlib.sha256(content).hexdigest() == node.findtext("a:sha256", namespaces=NS)
