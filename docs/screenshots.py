#!/usr/bin/env python
"""Re-take the screenshots in docs/img from a running demo (``make run`` in another terminal).

.venv/bin/python docs/screenshots.py [http://127.0.0.1:8000]
"""

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
PASSWORD = os.environ.get("DEMO_PASSWORD", "Qdperf@2026")
OUT = Path(__file__).resolve().parent / "img"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip

SHOTS = [
    ("edu_filler", "/", "home-edu_filler"),
    ("perf_admin", "/orgs/calendar/", "calendar-perf_admin"),
    ("perf_admin", "/orgs/", "organizations-perf_admin"),
    ("sysadmin", "/accounts/users/", "users-sysadmin"),
    ("audit_admin", "/audit/", "audit-audit_admin"),
    ("perf_admin", "/funds/", "funds-perf_admin"),
    ("perf_admin", "/targets/review/", "review-queue"),
    ("edu_filler", "/indicators/?q=满意度", "indicators-library"),
    ("perf_admin", "/assessments/", "assessments-perf_admin"),
    # "URL -> SELECTOR -> SELECTOR": follow the first link matching each selector before the shot.
    ("edu_unit_filler", "/targets/?status=returned -> #target-table a", "target-detail-returned"),
    ("edu_unit_filler", "/targets/?status=returned -> #target-table a -> #target-edit", "target-edit"),
    ("edu_approver", "/funds/ -> #funds a", "fund-detail"),
    ("perf_admin", "/monitoring/warnings/", "monitoring-warnings"),
    ("perf_admin", "/monitoring/key/", "monitoring-key"),
    ("perf_admin", "/evaluations/self/?year=2025", "selfeval-list"),
    ("perf_admin", "/evaluations/plans/?year=2025 -> #plans a", "plan-coverage"),
    ("perf_admin", "/results/rectifications/", "rectification-list"),
    ("perf_admin", "/results/linkage/arrange/?year=2027", "linkage-arrange"),
    ("perf_admin", "/results/linkage/report/?year=2027", "linkage-report"),
    ("perf_admin", "/results/disclosures/", "disclosure-list"),
    ("npc_liaison", "/results/npc/", "npc-export"),
    ("perf_admin", "/results/dashboard/?year=2025", "dashboard-finance"),
    ("perf_admin", "/results/dashboard/compare/?year=2025", "dashboard-compare"),
    ("edu_approver", "/results/dashboard/?year=2025", "dashboard-department"),
    # After `manage.py sweep_reminders` on the demo (the user guide's 试一试):
    ("edu_unit_filler", "/notifications/", "notifications-list"),
    ("edu_unit_filler", "/accounts/profile/", "profile-channels"),
    ("perf_admin", "/reminders/", "reminders-overview"),
    ("perf_admin", "/reminders/sent/", "reminders-sent"),
    ("perf_admin", "/reminders/rules/", "reminders-rules"),
    (None, "/public/", "public-list"),  # None: an anonymous visitor
    (None, "/public/?kind=key_evaluation -> #public-results a", "public-detail"),
]


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        login_page = browser.new_page(viewport={"width": 1280, "height": 720}, locale="zh-CN")
        login_page.goto(f"{BASE}/accounts/login/")
        login_page.screenshot(path=str(OUT / "login.png"))
        for username, path, name in SHOTS:
            page = browser.new_page(viewport={"width": 1280, "height": 720}, locale="zh-CN")
            if username is not None:
                page.goto(f"{BASE}/accounts/login/")
                page.fill("#id_username", username)
                page.fill("#id_password", PASSWORD)
                page.click("#login-button")
                page.wait_for_selector("#main-nav")
            path, *follow = path.split(" -> ")
            page.goto(f"{BASE}{path}")
            for hop in follow:
                href = page.locator(hop).first.get_attribute("href")
                assert href, f"{username}: nothing to follow at {hop} on {page.url}"
                page.goto(BASE + href)
            page.screenshot(path=str(OUT / f"{name}.png"), full_page=False)
            page.close()
        browser.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
