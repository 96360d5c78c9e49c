"""What the benchmark scripts share: timing one page repeatedly through the Django test client.

Import after ``django.setup()``.
"""

import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def measure(client: Client, url: str, repeat: int = 20) -> tuple[float, float, int]:
    """Median and p95 server time in ms, and the SQL query count, of ``repeat`` GETs (one warm-up)."""
    client.get(url)  # warm per-process caches
    timings, queries = [], 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = len(ctx.captured_queries)
    timings.sort()
    return statistics.median(timings), timings[max(int(len(timings) * 0.95) - 1, 0)], queries
