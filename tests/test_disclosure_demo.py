"""The disclosure demo: targets, self-evaluations and a key-evaluation report published, one withdrawn,
one 涉密 fund never public, 市南区's own targets and results public too; the report file is a valid
one-page PDF with Chinese text; a second run changes nothing."""

import re

from django.core.management import call_command

from apps.evaluations.demo_key import report_pdf
from apps.results.demo_disclosure import WITHDRAW_REASON, seed_disclosures
from apps.results.models import Disclosure


def pdf_facts(data: bytes) -> dict:
    """Checks a hand-written PDF the way a reader starts: header, xref offsets, trailer; returns the
    page count, the fonts and the text shown (hex strings decoded from UTF-16)."""
    assert data.startswith(b"%PDF-1.") and data.rstrip().endswith(b"%%EOF")
    start = int(re.search(rb"startxref\s+(\d+)\s+%%EOF", data).group(1))
    assert data[start : start + 4] == b"xref"
    count = int(re.match(rb"xref\s+0 (\d+)", data[start:]).group(1))
    offsets = re.findall(rb"(\d{10}) 00000 n ", data[start:])
    assert len(offsets) == count - 1
    for number, offset in enumerate(offsets, start=1):
        assert data[int(offset) :].startswith(b"%d 0 obj" % number), number
    stream = re.search(rb"/Length (\d+) >>\nstream\n", data)
    body = data[stream.end() : stream.end() + int(stream.group(1))]
    assert data[stream.end() + int(stream.group(1)) :].startswith(b"\nendstream")
    return {
        "pages": len(re.findall(rb"/Type /Page\b(?!s)", data)),
        "count": int(re.search(rb"/Count (\d+)", data).group(1)),
        "font": b"/BaseFont /STSong-Light /Encoding /UniGB-UCS2-H" in data,
        "text": "\n".join(
            bytes.fromhex(h.decode()).decode("utf-16-be") for h in re.findall(rb"<([0-9A-F]*)> Tj", body)
        ),
    }


def test_report_pdf_is_a_valid_one_page_pdf_with_chinese_text():
    facts = pdf_facts(report_pdf("某项目绩效评价报告", ["评价得分：86.00 分", "长" * 120, ""]))
    assert facts["pages"] == facts["count"] == 1 and facts["font"]
    assert facts["text"].startswith("某项目绩效评价报告\n评价得分：86.00 分\n")
    assert max(len(line) for line in facts["text"].splitlines()) <= 41  # wrapped to the page width


def test_demo_disclosures(db, client):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115  (seed_demo publishes them)
    created = Disclosure.objects.count()
    assert created > 0 and seed_disclosures() == 0
    kinds = set(Disclosure.objects.values_list("kind", flat=True))
    assert kinds == {"target", "self_evaluation", "key_evaluation"}
    withdrawn = Disclosure.objects.get(status="withdrawn")
    assert withdrawn.withdraw_reason == WITHDRAW_REASON
    key = Disclosure.objects.get(kind="key_evaluation")
    assert key.report is not None and key.grade
    assert not Disclosure.objects.filter(fund__is_classified=True).exists()  # skipped, never published
    public = Disclosure.objects.public()
    assert public.count() == created - 1
    html = client.get("/public/?kind=key_evaluation").content.decode()
    assert key.title in html
    assert client.get(f"/public/disclosures/{withdrawn.pk}/").status_code == 404

    # The report anyone downloads: a real one-page PDF naming the fund, its score and grade.
    response = client.get(f"/public/disclosures/{key.pk}/report/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    data = b"".join(response.streaming_content)
    assert key.report.mime_type == "application/pdf" and len(data) > 1000
    facts = pdf_facts(data)
    assert facts["pages"] == facts["count"] == 1 and facts["font"]
    text = facts["text"]
    assert key.content["fund_name"] in text and f"{key.score:.2f}" in text
    assert f"评价等级：{key.get_grade_display()}" in text and "一、主要问题" in text and "资金拨付进度滞后" in text


def test_demo_publishes_a_district_too(db, client):
    """市南区's finance publishes its targets and results: the public region filter finds them."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    seed_disclosures()
    shinan = Disclosure.objects.public().filter(region__code="370202")
    assert set(shinan.values_list("kind", flat=True)) == {"target", "self_evaluation"}
    assert set(shinan.values_list("published_by__username", flat=True)) == {"shinan_finance"}
    page = client.get("/public/", {"region": "370202"})
    assert page.context["page"].paginator.count == shinan.count()
    assert 'value="370202" selected' in page.content.decode()
    api = client.get("/public/api/disclosures/", {"region": "370202"}).json()
    assert api["count"] == shinan.count() and {r["region"] for r in api["results"]} == {"市南区"}
    before = Disclosure.objects.count()
    assert seed_disclosures() == 0 and Disclosure.objects.count() == before
