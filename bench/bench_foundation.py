#!/usr/bin/env python
"""Foundation benchmark: response time and SQL queries of the shell pages and API lists at scale.

Usage (PostgreSQL recommended):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/qdperf_bench .venv/bin/python bench/bench_foundation.py

Migrates, loads demo data and ``seed_scale`` (≈11,000 organisations, ≈25,000 users) if missing,
then requests each URL ``--repeat`` times in-process (Django test client: no network, no server)
and prints median / p95 milliseconds and the SQL query count per request.
"""

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qdperf.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from apps.accounts.models import User  # noqa: E402
from apps.orgs.models import Organization  # noqa: E402
from bench.common import measure  # noqa: E402

CASES = [
    ("edu_filler", "/"),
    ("perf_admin", "/"),
    ("perf_admin", "/orgs/"),
    ("perf_admin", "/orgs/?q=教育&page=3"),
    ("perf_admin", "/orgs/calendar/"),
    ("sysadmin", "/accounts/users/"),
    ("sysadmin", "/accounts/users/?q=局&page=5"),
    ("audit_admin", "/audit/"),
    ("perf_admin", "/api/v1/organizations/"),
    ("perf_admin", "/api/v1/organizations/?kind=unit&page=100"),
    ("edu_approver", "/api/v1/organizations/"),
    ("sysadmin", "/api/v1/users/?page=20"),
    ("audit_admin", "/api/v1/audit-events/"),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("seed_demo", verbosity=0)
    call_command("seed_scale", verbosity=0)
    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    print(f"database: {engine}; organisations: {Organization.objects.count()}; users: {User.objects.count()}")
    print(f"{'user':<14}{'url':<46}{'median ms':>10}{'p95 ms':>10}{'queries':>9}")
    clients: dict[str, Client] = {}
    for username, url in CASES:
        if username not in clients:
            clients[username] = Client(HTTP_HOST="127.0.0.1")
            clients[username].force_login(User.objects.get(username=username))
        median, p95, queries = measure(clients[username], url, args.repeat)
        print(f"{username:<14}{url:<46}{median:>10.1f}{p95:>10.1f}{queries:>9}")


if __name__ == "__main__":
    main()
