"""PostgreSQL only: the pg_trgm extension and GIN trigram indexes for library search.

Search matches the name by trigram word similarity (``%>``) and name, description and code by
LIKE/ILIKE substrings; with these indexes each is an index scan, not a pass over every row.
On other databases (SQLite in development) the migration does nothing.
"""

from django.db import migrations

TABLE = "indicators_libraryindicator"
INDEXES = {
    f"{TABLE}_name_trgm": "name",
    f"{TABLE}_desc_trgm": "description",
    f"{TABLE}_code_trgm": "code",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for index, column in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {TABLE} USING gin ({column} gin_trgm_ops)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [("indicators", "0003_load_library")]
    operations = [migrations.RunPython(forwards, backwards)]
