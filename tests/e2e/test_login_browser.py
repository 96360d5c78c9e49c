"""Headless Chromium: sign in as a unit clerk, see the Chinese home page, sign out; wrong password."""

from pathlib import Path

import pytest

from tests.conftest import build_world
from tests.factories import TEST_PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def people():
    return build_world()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, base: str, username: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-button")


def test_clerk_signs_in_sees_chinese_home_and_signs_out(page, live_server, people):
    sign_in(page, live_server.url, "edu_filler", TEST_PASSWORD)
    page.wait_for_selector("#todo-empty")
    assert page.locator("#user-org").inner_text() == "青岛市教育局"
    assert "我的待办" in page.locator("h1").inner_text()
    nav = page.locator("#main-nav").inner_text()
    assert "工作日历" in nav and "用户管理" not in nav and "审计日志" not in nav
    # The CJK font is installed: Chinese text renders with real width, not as missing-glyph boxes.
    width = page.evaluate("() => document.querySelector('h1').getBoundingClientRect().width")
    assert width > 40
    shot(page, "home-edu_filler")
    page.click("#logout-button")
    page.wait_for_selector("#login-button")
    assert "/accounts/login/" in page.url
    shot(page, "logged-out")


def test_wrong_password_shows_chinese_error(page, live_server, people):
    sign_in(page, live_server.url, "edu_filler", "not-the-password")
    error = page.locator("#login-error")
    error.wait_for()
    assert "用户名或密码不正确" in error.inner_text()
    shot(page, "login-wrong-password")


def test_sysadmin_sees_only_account_tools(page, live_server, people):
    sign_in(page, live_server.url, "sysadmin", TEST_PASSWORD)
    page.wait_for_selector("#admin-home")
    nav = page.locator("#main-nav").inner_text()
    assert "用户管理" in nav and "工作日历" not in nav
    page.click("text=用户管理")
    page.wait_for_selector("text=新建账号")
    shot(page, "sysadmin-users")
