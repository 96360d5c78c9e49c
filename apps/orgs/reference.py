"""Reference data every installation has: 市本级 and the 10 区市 (fixtures/regions.json).

Used by the data migration and by anything that must restore it (tests that flush the database).
"""

import json
from pathlib import Path

from django.conf import settings

REGIONS_FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "regions.json"


def load_regions(region_model) -> int:
    """Create or update the regions; takes the model so the migration can pass its historical one."""
    rows = json.loads(REGIONS_FIXTURE.read_text(encoding="utf-8"))
    for row in rows:
        region_model.objects.update_or_create(code=row["code"], defaults=row)
    return len(rows)
