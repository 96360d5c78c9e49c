"""The project's URLs with the monitoring Excel routes inside the ``monitoring`` namespace.

Until ``apps/monitoring/urls.py`` includes ``apps.monitoring.excel_urls``, this urlconf adds them:
the existing ``monitoring`` include is replaced by one holding its routes plus ours (ours only when
not already there), so the namespace is registered once either way.
"""

from django.urls import include, path

import apps.monitoring.excel_urls
import qdperf.urls

_existing = [p for p in qdperf.urls.urlpatterns if getattr(p, "namespace", None) == "monitoring"]
_theirs = [r for p in _existing for r in p.url_patterns]


def _names(patterns) -> set[str]:
    """Route names, also inside includes without a namespace of their own."""
    names = set()
    for p in patterns:
        if hasattr(p, "url_patterns"):
            names |= _names(p.url_patterns)
        elif p.name:
            names.add(p.name)
    return names


_taken = _names(_theirs)
_ours = [r for r in apps.monitoring.excel_urls.urlpatterns if r.name not in _taken]

urlpatterns = [
    *(p for p in qdperf.urls.urlpatterns if getattr(p, "namespace", None) != "monitoring"),
    path("monitoring/", include(([*_theirs, *_ours], "monitoring"))),
]
handler403 = qdperf.urls.handler403
handler404 = qdperf.urls.handler404
