"""The library's reference data: the indicators of fixtures/indicators.json and their code scheme.

``load_indicators`` is used by the data migration and by anything that must restore the library
(tests that flush the database). It takes the model class so the migration can pass its
historical one.
"""

import json
from pathlib import Path

from django.conf import settings

INDICATORS_FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "indicators.json"

# Codes read "<sector>-<二级>-<number>", e.g. EDU-Q-001 (教育 · 质量指标 · 1).
SECTOR_PREFIX = {
    "general": "GEN",
    "education": "EDU",
    "health": "HLT",
    "transport": "TRN",
    "agriculture": "AGR",
    "science": "SCI",
    "civil": "CIV",
    "environment": "ENV",
    "culture": "CUL",
    "ocean": "OCN",
    "industry": "IND",
    "hrss": "HRS",
    "housing": "HSG",
}
LEVEL2_LETTER = {
    "quantity": "N",
    "quality": "Q",
    "timeliness": "T",
    "output_cost": "C",
    "economic": "E",
    "social": "S",
    "ecological": "G",
    "sustainable": "U",
    "service_satisfaction": "M",
    "economic_cost": "CE",
    "social_cost": "CS",
    "ecological_cost": "CG",
}
FIELDS = [
    "name",
    "level1",
    "level2",
    "sector",
    "comparison",
    "unit",
    "reference_value",
    "description",
    "is_core",
]


def code_prefix(sector: str, level2: str) -> str:
    return f"{SECTOR_PREFIX[sector]}-{LEVEL2_LETTER[level2]}-"


def fixture_rows() -> list[dict]:
    return json.loads(INDICATORS_FIXTURE.read_text(encoding="utf-8"))


def load_indicators(indicator_model) -> int:
    """Create or update every fixture indicator by code (in the library: no owner, 在用).

    Idempotent, and cheap on a second run: one read, then writes only for missing or changed rows.
    """
    rows = fixture_rows()
    existing = {obj.code: obj for obj in indicator_model.objects.filter(code__in=[r["code"] for r in rows])}
    wanted = {"status": "active", "organization_id": None}
    missing = []
    for row in rows:
        values = {**{name: row.get(name, "") for name in FIELDS}, "is_core": bool(row.get("is_core")), **wanted}
        obj = existing.get(row["code"])
        if obj is None:
            missing.append(indicator_model(code=row["code"], **values))
        elif any(getattr(obj, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(obj, name, value)
            obj.save(update_fields=[*values, "updated_at"])
    indicator_model.objects.bulk_create(missing)
    return len(rows)
