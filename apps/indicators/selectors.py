"""Reads of the indicator library shared by the pages, the API and the targets' quality check."""

import re

from django.db import connection
from django.db.models import Case, F, IntegerField, Lookup, Q, QuerySet, Value, When

from apps.core import permissions
from apps.orgs.models import Organization

from .framework import Level2, Sector
from .models import LibraryIndicator

Status = LibraryIndicator.Status
LIBRARY_STATUSES = (Status.ACTIVE, Status.RETIRED)

# Word similarity (pg_trgm) a name needs to match without containing the query as a substring:
# "学生满意度" still finds "学生家长满意度" (0.4). Substring matches always count. The ``%>``
# operator reads the threshold from the session, set for every connection in ``apps.py``; it is the
# form the GIN index on ``name`` answers.
TRIGRAM_THRESHOLD = 0.4
# Shorter queries yield no trigram a Chinese name could share; they match by substring only.
TRIGRAM_MIN_LENGTH = 3
MAX_QUERY_LENGTH = 100
HAS_LATIN = re.compile(r"[A-Za-z]")


def set_trigram_threshold(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: the session's word-similarity threshold (PostgreSQL)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('pg_trgm.word_similarity_threshold', %s, false)", [str(TRIGRAM_THRESHOLD)]
            )


def _enum_order(field: str, choices) -> Case:
    """Sort by the framework's own order (通用, 教育 …; 数量, 质量 …), not alphabetically by code."""
    return Case(
        *[When(**{field: value}, then=Value(i)) for i, value in enumerate(choices.values)],
        default=Value(len(choices.values)),
        output_field=IntegerField(),
    )


def _framework_order(indicators: QuerySet) -> QuerySet:
    return indicators.annotate(
        sector_rank=_enum_order("sector", Sector), level2_rank=_enum_order("level2", Level2)
    ).order_by("sector_rank", "level2_rank", "code")


class _ILikeContains(Lookup):
    """``column ILIKE '%word%'`` (PostgreSQL). Django's ``icontains`` compiles to
    ``UPPER(column) LIKE``, which the trigram indexes cannot answer; ILIKE they can."""

    lookup_name = "ilike_contains"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs}::text ILIKE {rhs}", [*lhs_params, *rhs_params]


def _contains_any(word: str, fields: list[str], *, postgres: bool) -> Q:
    """``word`` in any of ``fields``. Chinese has no letter case, so a word without Latin letters
    is a plain LIKE (cheaper than a case-insensitive match when rows must be scanned)."""
    condition = Q(pk__in=[])
    for field in fields:
        if not HAS_LATIN.search(word):
            condition |= Q(**{f"{field}__contains": word})
        elif postgres:
            pattern = f"%{connection.ops.prep_for_like_query(word)}%"
            condition |= Q(_ILikeContains(F(field), Value(pattern)))
        else:
            condition |= Q(**{f"{field}__icontains": word})
    return condition


def _words_q(q: str, *, postgres: bool = False) -> Q:
    """Every word of ``q`` appears in the name, the measurement description or the code (codes
    hold only Latin letters, digits and hyphens, so only such words are looked up there)."""
    condition = Q()
    for word in q.split():
        fields = ["name", "description", "code"] if word.isascii() else ["name", "description"]
        condition &= _contains_any(word, fields, postgres=postgres)
    return condition


def _search(indicators: QuerySet, q: str) -> QuerySet:
    name_hit = Case(When(name__icontains=q, then=Value(1)), default=Value(0), output_field=IntegerField())
    if connection.vendor == "postgresql":
        from django.contrib.postgres.lookups import TrigramWordSimilar
        from django.contrib.postgres.search import TrigramWordSimilarity

        matches = _words_q(q, postgres=True)
        if len(q) >= TRIGRAM_MIN_LENGTH:
            matches |= Q(TrigramWordSimilar(F("name"), Value(q)))
        return (
            indicators.filter(matches)
            .annotate(name_hit=name_hit, similarity=TrigramWordSimilarity(q, "name"))
            .order_by("-name_hit", "-similarity", "code")
        )
    return indicators.filter(_words_q(q)).annotate(name_hit=name_hit).order_by("-name_hit", "code")


def library_search(
    *,
    user,
    q: str = "",
    sector: str = "",
    level1: str = "",
    level2: str = "",
    include_retired: bool = False,
    limit: int | None = None,
) -> QuerySet:
    """Library indicators (not proposals) the user may read, filtered and, with ``q``, ranked:
    names containing the words first, then by trigram similarity (PostgreSQL)."""
    statuses = LIBRARY_STATUSES if include_retired else (Status.ACTIVE,)
    indicators = LibraryIndicator.objects.restrict(user, "indicator.view").filter(
        organization__isnull=True, status__in=statuses
    )
    if sector:
        indicators = indicators.filter(sector=sector)
    if level1:
        indicators = indicators.filter(level1=level1)
    if level2:
        indicators = indicators.filter(level2=level2)
    q = " ".join((q or "").split())[:MAX_QUERY_LENGTH]
    indicators = _search(indicators, q) if q else _framework_order(indicators)
    return indicators[:limit] if limit else indicators


def core_indicators(sector: str) -> QuerySet:
    """The 核心约束 indicators every target of ``sector`` must carry: the sector's and the common ones.

    Reference data, not business rows: the targets' quality check calls this without a user."""
    return _framework_order(
        LibraryIndicator.objects.filter(
            organization__isnull=True,
            status=Status.ACTIVE,
            is_core=True,
            sector__in={sector, Sector.GENERAL},
        )
    )


def _proposals_q(user) -> Q:
    """Proposals this user may follow: all for 绩效管理处; otherwise those of the departments in
    the user's ``indicator.propose`` scope (kept after a decision) and the user's own."""
    if permissions.has_action(user, "indicator.manage"):
        return Q(proposer_organization__isnull=False)
    if not permissions.has_action(user, "indicator.propose"):
        return Q(pk__in=[])
    in_scope = Organization.objects.restrict(user, "indicator.propose").values("pk")
    return Q(proposer_organization__in=in_scope) | Q(proposed_by=user)


def proposal_list(user, *, status: str = "") -> QuerySet:
    """Proposals the user may see, pending ones first, newest first."""
    proposals = (
        LibraryIndicator.objects.restrict(user, "indicator.view")
        .filter(_proposals_q(user))
        .select_related("proposer_organization", "proposed_by")
    )
    if status:
        proposals = proposals.filter(status=status)
    pending_first = Case(When(status=Status.PROPOSED, then=Value(0)), default=Value(1), output_field=IntegerField())
    return proposals.annotate(pending_first=pending_first).order_by("pending_first", "-created_at", "-pk")


def indicator_detail_queryset(user) -> QuerySet:
    """Rows a detail page or API retrieve may show: the library, plus the proposals the user may
    follow (another department's proposal is out of scope: 404)."""
    return (
        LibraryIndicator.objects.restrict(user, "indicator.view")
        .filter(Q(organization__isnull=True, status__in=LIBRARY_STATUSES) | _proposals_q(user))
        .select_related("organization", "proposer_organization", "proposed_by")
    )
