"""Public pages (no login): disclosed targets and evaluation results, and the report download.

Everything starts from ``Disclosure.objects.public()``: a withdrawn record, or one from a fund later
flagged 涉密, is a 404 at once, whatever URL is guessed. Plain server-rendered HTML, no JavaScript.
"""

from __future__ import annotations

import logging

from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from . import selectors_disclosure as selectors
from .forms_disclosure import PublicFilterForm
from .models import Disclosure

logger = logging.getLogger(__name__)

PAGE_SIZE = 20
NOT_FOUND = "该公开信息不存在或已撤回。"


def public_filter_form(params) -> PublicFilterForm:
    regions = selectors.public_regions()
    region = next((r for r in regions if r.code == PublicFilterForm.region_code(params)), None)
    return PublicFilterForm(
        params,
        regions=regions,
        years=selectors.public_years(),
        departments=selectors.region_departments(region),
    )


@require_GET
def disclosure_list(request):
    form = public_filter_form(request.GET)
    filters = form.filters()
    paginator = Paginator(selectors.public_list(filters), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])
    return render(
        request,
        "public/disclosure_list.html",
        {"form": form, "filters": filters, "page": page, "query": query, "Kind": Disclosure.Kind},
    )


@require_GET
def disclosure_detail(request, pk: int):
    disclosure = selectors.public_detail(pk)
    if disclosure is None:
        raise Http404(NOT_FOUND)
    return render(request, "public/disclosure_detail.html", {"d": disclosure, "c": disclosure.content})


@require_GET
def report_download(request, pk: int):
    """The published report file of a public disclosure; 404 unless the disclosure is public now."""
    disclosure = selectors.public_report(pk)
    if disclosure is None:
        raise Http404(NOT_FOUND)
    report = disclosure.report
    try:
        handle = report.file.storage.open(report.file.name, "rb")
    except FileNotFoundError:
        logger.error("disclosure %s: report file %s missing from storage", disclosure.pk, report.file.name)
        raise Http404("报告文件暂时无法下载。") from None
    response = FileResponse(handle, as_attachment=True, filename=report.original_name, content_type=report.mime_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox"
    # Not cached by shared caches: a withdrawal must take effect at once.
    response["Cache-Control"] = "no-store"
    return response
