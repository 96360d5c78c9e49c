"""A large library for benchmarks: ``seed_scale_indicators(n)`` adds n realistic-looking indicators.

Names combine the fixture's indicators with a region and a project qualifier ("市南区农村
义务教育巩固率"); category, comparison, unit and description follow the base indicator. Rows carry
codes ``SC-IND-00001`` … and are created once: a second run adds only what is missing.
"""

from django.db import connection, transaction

from .models import LibraryIndicator
from .reference import fixture_rows

CODE_PREFIX = "SC-IND-"
BATCH = 2000
REGIONS = [
    "市本级", "市南区", "市北区", "李沧区", "崂山区", "城阳区", "西海岸新区", "即墨区", "胶州市", "平度市", "莱西市",
]  # fmt: skip
QUALIFIERS = ["", "农村", "城区", "重点项目", "试点", "专项"]


def scale_code(i: int) -> str:
    return f"{CODE_PREFIX}{i:05d}"


def _row(i: int, bases: list[dict]) -> LibraryIndicator:
    base = bases[(i - 1) % len(bases)]
    round_ = (i - 1) // len(bases)
    region = REGIONS[round_ % len(REGIONS)]
    qualifier = QUALIFIERS[(round_ // len(REGIONS)) % len(QUALIFIERS)]
    return LibraryIndicator(
        code=scale_code(i),
        name=f"{region}{qualifier}{base['name']}",
        level1=base["level1"],
        level2=base["level2"],
        sector=base["sector"],
        comparison=base["comparison"],
        unit=base["unit"],
        reference_value=base["reference_value"],
        description=f"{region}{qualifier}口径。{base['description']}",
        is_core=False,
        status=LibraryIndicator.Status.ACTIVE,
    )


@transaction.atomic
def seed_scale_indicators(n: int = 10000) -> int:
    """Create the missing ones of SC-IND-00001 … n; returns how many were created."""
    bases = fixture_rows()
    present = set(LibraryIndicator.objects.filter(code__startswith=CODE_PREFIX).values_list("code", flat=True))
    rows = [_row(i, bases) for i in range(1, n + 1) if scale_code(i) not in present]
    LibraryIndicator.objects.bulk_create(rows, batch_size=BATCH)
    if rows and connection.vendor == "postgresql":
        _refresh_search_statistics()
    return len(rows)


def _refresh_search_statistics() -> None:
    """After a bulk load: move the GIN indexes' pending entries into the index and refresh the
    planner's statistics, so searches use the trigram indexes at once (autovacuum would, later)."""
    table = LibraryIndicator._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT gin_clean_pending_list(indexrelid) FROM pg_index i JOIN pg_am am ON am.oid = "
            "(SELECT relam FROM pg_class WHERE oid = i.indexrelid) WHERE indrelid = %s::regclass AND am.amname = 'gin'",
            [table],
        )
        cursor.execute(f"ANALYZE {table}")
