"""指标库: the fixture library, search, maintenance by 绩效管理处, department proposals, API."""

from collections import defaultdict

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.indicators import selectors, services
from apps.indicators.framework import LEVEL2_PARENT, Comparison, Level1, Sector
from apps.indicators.models import LibraryIndicator
from apps.indicators.reference import fixture_rows, load_indicators
from apps.indicators.scale import seed_scale_indicators
from tests.querycount import assert_constant_queries

Status = LibraryIndicator.Status
OUTSIDERS = ["edu_filler", "health_filler", "shinan_edu_filler", "sysadmin", "expert_li"]
ON_POSTGRES = connection.vendor == "postgresql"

NEW_INDICATOR = {
    "name": "校园食堂食品安全抽检合格率",
    "level1": "output",
    "level2": "quality",
    "sector": "education",
    "comparison": "ge",
    "unit": "%",
    "reference_value": "98",
    "description": "计算方法：抽检合格批次/抽检批次×100%。数据来源：市场监管部门抽检报告。",
    "is_core": False,
}
NEW_PROPOSAL = {
    "name": "研学实践教育活动参与人次",
    "level1": "output",
    "level2": "quantity",
    "sector": "education",
    "comparison": "ge",
    "unit": "人次",
    "reference_value": "50000",
    "description": "年度内参加市级组织的研学实践教育活动的中小学生人次。",
}


@pytest.fixture(autouse=True)
def library(db):
    """Transactional tests elsewhere flush the database: restore the migration's library."""
    load_indicators(LibraryIndicator)


def state(indicator: LibraryIndicator) -> dict:
    """Everything a refused request must leave unchanged."""
    fresh = LibraryIndicator.objects.get(pk=indicator.pk)
    return {f.attname: getattr(fresh, f.attname) for f in LibraryIndicator._meta.concrete_fields}


def propose(user, **overrides):
    return services.indicator_propose(
        actor=user, reason="现有库指标无法反映研学活动规模。", **{**NEW_PROPOSAL, **overrides}
    )


def codes(queryset) -> list[str]:
    return list(queryset.values_list("code", flat=True))


# --- the fixture library ---------------------------------------------------------------------


def test_fixture_covers_the_framework_for_every_sector():
    rows = fixture_rows()
    assert len(rows) >= 220
    assert len({r["code"] for r in rows}) == len(rows)
    by_sector = defaultdict(list)
    for row in rows:
        assert LEVEL2_PARENT[row["level2"]] == row["level1"], row["code"]
        assert row["comparison"] in Comparison.values and row["name"] and "计算方法" in row["description"]
        assert row["comparison"] == Comparison.QUALITATIVE or row["unit"], f"{row['code']} 定量指标缺少单位"
        by_sector[row["sector"]].append(row)
    assert set(by_sector) == set(Sector.values)
    assert len(by_sector[Sector.GENERAL]) >= 20
    for sector, items in by_sector.items():
        level2s = {r["level2"] for r in items}
        assert {"service_satisfaction"} <= level2s, sector
        assert level2s & {"quantity", "quality", "timeliness", "output_cost"} >= {"quantity", "quality"}, sector
        assert level2s & {"economic", "social", "ecological", "sustainable"}, sector
        assert sum(r["is_core"] for r in items) >= 2, sector


def test_migration_loaded_the_library_and_the_loader_is_idempotent(django_assert_max_num_queries):
    rows = fixture_rows()
    library = LibraryIndicator.objects.filter(code__in=[r["code"] for r in rows])
    assert library.count() == len(rows)
    assert not library.exclude(status=Status.ACTIVE).exists()
    assert not library.filter(organization__isnull=False).exists()
    with django_assert_max_num_queries(1):  # nothing to change: one read
        assert load_indicators(LibraryIndicator) == len(rows)
    # A changed or missing row is put back.
    LibraryIndicator.objects.filter(code="EDU-Q-001").update(name="改坏了", status=Status.RETIRED)
    load_indicators(LibraryIndicator)
    assert LibraryIndicator.objects.get(code="EDU-Q-001").name == "义务教育巩固率"
    assert LibraryIndicator.objects.get(code="EDU-Q-001").status == Status.ACTIVE


def test_core_indicators_are_the_sectors_and_the_common_ones():
    core = selectors.core_indicators(Sector.EDUCATION)
    assert {i.sector for i in core} == {Sector.GENERAL, Sector.EDUCATION}
    assert {"义务教育巩固率", "家庭经济困难学生资助覆盖率", "服务对象满意度"} <= {i.name for i in core}
    assert all(i.is_core and i.status == Status.ACTIVE for i in core)
    for sector in Sector.values:
        assert selectors.core_indicators(sector).filter(sector=sector).count() >= (3 if sector == "general" else 2)


# --- search ----------------------------------------------------------------------------------


def test_search_by_word_finds_every_satisfaction_indicator(world):
    satisfaction = {r["code"] for r in fixture_rows() if "满意度" in r["name"]}
    assert len(satisfaction) >= 25
    found = codes(selectors.library_search(user=world.edu_filler, q="满意"))
    assert satisfaction <= set(found)
    # Names containing the words come first.
    assert all(
        "满意" in name for name in [LibraryIndicator.objects.get(code=c).name for c in found[: len(satisfaction)]]
    )


def test_search_by_word_and_by_code(world):
    found = list(selectors.library_search(user=world.expert_li, q="入学率"))
    assert {"小学学龄儿童净入学率", "高中阶段毛入学率"} <= {i.name for i in found}
    assert "入学率" in found[0].name
    assert codes(selectors.library_search(user=world.expert_li, q="edu-q-001"))[0] == "EDU-Q-001"
    # Several words: each must appear.
    both = selectors.library_search(user=world.expert_li, q="学生 满意度")
    assert {"学生家长满意度", "学生满意度"} <= {i.name for i in both}
    assert not selectors.library_search(user=world.expert_li, q="完全不存在的词语xyz").exists()


@pytest.mark.skipif(not ON_POSTGRES, reason="trigram similarity is PostgreSQL only")
def test_postgresql_has_the_trigram_indexes_and_threshold():
    with connection.cursor() as cursor:
        cursor.execute("SHOW pg_trgm.word_similarity_threshold")
        assert float(cursor.fetchone()[0]) == selectors.TRIGRAM_THRESHOLD
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'indicators_libraryindicator' AND indexdef LIKE %s",
            ["%gin_trgm_ops%"],
        )
        indexes = {row[0] for row in cursor.fetchall()}
    assert {f"indicators_libraryindicator_{c}_trgm" for c in ("name", "desc", "code")} <= indexes


@pytest.mark.skipif(not ON_POSTGRES, reason="trigram similarity is PostgreSQL only")
def test_search_on_postgresql_ranks_similar_names():
    from tests.factories import UserFactory

    user = UserFactory(username="reader", organization=None, roles=["expert"])
    found = [i.name for i in selectors.library_search(user=user, q="学生满意度")]
    assert found[0] == "学生满意度"
    assert "学生家长满意度" in found  # no substring match: found by similarity


def test_filters_and_retired_indicators(world):
    user = world.perf_admin
    rows = selectors.library_search(user=user, sector="education", level1="satisfaction")
    expected = {r["code"] for r in fixture_rows() if r["sector"] == "education" and r["level1"] == "satisfaction"}
    assert set(codes(rows)) == expected
    timeliness = selectors.library_search(user=user, level2="timeliness", q="及时率")
    assert timeliness.exists() and all(i.level2 == "timeliness" for i in timeliness)
    retired = LibraryIndicator.objects.get(code="EDU-M-003")
    services.indicator_retire(actor=user, indicator=retired, reason="与通用指标重复")
    assert "EDU-M-003" not in codes(selectors.library_search(user=user, sector="education"))
    assert "EDU-M-003" in codes(selectors.library_search(user=user, sector="education", include_retired=True))
    # Proposals never show in the library.
    proposal = propose(world.edu_filler)
    assert proposal.code not in codes(selectors.library_search(user=user, q="研学"))
    assert len(selectors.library_search(user=user, q="满意", limit=5)) == 5
    # A role without indicator.view gets nothing.
    assert not selectors.library_search(user=world.sysadmin).exists()


def test_library_page_searches_live_with_htmx(world, login):
    client = login(world.edu_filler)
    page = client.get(reverse("indicators:library")).content.decode()
    assert "指标库" in page and 'id="library-filter"' in page and "义务教育巩固率" in page
    assert 'id="indicator-create"' not in page and 'id="proposal-create"' in page
    partial = client.get(reverse("indicators:library"), {"q": "入学率", "sector": "education"}, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert "<html" not in body and "小学学龄儿童净入学率" in body and "学生家长满意度" not in body
    empty = client.get(reverse("indicators:library"), {"q": "不存在的指标xyz"}).content.decode()
    assert "没有找到相关指标" in empty
    assert 'id="indicator-create"' in login(world.perf_admin).get(reverse("indicators:library")).content.decode()


@pytest.mark.parametrize("persona", ["expert_li", "npc_liaison", "auditor", "sector_kjw", "shinan_finance"])
def test_readers_may_read_the_library(world, login, persona):
    client = login(getattr(world, persona))
    assert client.get(reverse("indicators:library")).status_code == 200
    indicator = LibraryIndicator.objects.get(code="EDU-Q-001")
    assert client.get(reverse("indicators:indicator_detail", args=[indicator.pk])).status_code == 200
    assert client.get("/api/v1/indicators/", {"q": "满意"}).status_code == 200


def test_library_refused_to_roles_without_it(world, login):
    for persona in ("sysadmin", "security_admin", "audit_admin"):
        client = login(getattr(world, persona))
        assert client.get(reverse("indicators:library")).status_code == 403
        assert client.get("/api/v1/indicators/").status_code == 403


def test_detail_shows_measurement_and_history(world, login):
    indicator = LibraryIndicator.objects.get(code="EDU-Q-001")
    services.indicator_update(actor=world.perf_admin, indicator=indicator, reference_value="99.5")
    page = login(world.edu_filler).get(reverse("indicators:indicator_detail", args=[indicator.pk])).content.decode()
    assert "九年级在校生数" in page and "核心约束指标" in page
    history = page[page.index('id="indicator-history"') :]
    assert "perf_admin" in history and "reference_value" in history and "99.5" in history
    assert 'id="indicator-actions"' not in page


# --- maintenance by 绩效管理处 -----------------------------------------------------------------


def test_finance_creates_edits_retires_and_restores_through_the_pages(world, login):
    client = login(world.perf_admin)
    response = client.post(reverse("indicators:indicator_create"), {**NEW_INDICATOR, "code": ""})
    created = LibraryIndicator.objects.get(name=NEW_INDICATOR["name"])
    assert response.status_code == 302 and response.url == reverse("indicators:indicator_detail", args=[created.pk])
    assert created.code == "EDU-Q-006" and created.status == Status.ACTIVE and created.organization is None
    create_event = AuditEvent.objects.for_object(created).get()
    assert create_event.kind == "create" and create_event.changes["code"]["to"] == "EDU-Q-006"

    edit_url = reverse("indicators:indicator_edit", args=[created.pk])
    assert "指标编码创建后不可修改" in client.get(edit_url).content.decode()
    response = client.post(edit_url, {**NEW_INDICATOR, "reference_value": "99", "is_core": "on", "code": "X"})
    created.refresh_from_db()
    assert response.status_code == 302 and created.reference_value == "99" and created.is_core
    assert created.code == "EDU-Q-006"  # the disabled code field is ignored
    update = AuditEvent.objects.for_object(created).filter(kind="update").get()
    assert update.changes == {"is_core": {"from": False, "to": True}, "reference_value": {"from": "98", "to": "99"}}

    client.post(reverse("indicators:indicator_retire", args=[created.pk]), {"comment": "口径调整"})
    created.refresh_from_db()
    assert created.status == Status.RETIRED
    retire = AuditEvent.objects.for_object(created).filter(kind="transition").get()
    assert retire.comment == "口径调整" and retire.changes["status"] == {"from": "active", "to": "retired"}
    client.post(reverse("indicators:indicator_restore", args=[created.pk]))
    created.refresh_from_db()
    assert created.status == Status.ACTIVE


def test_retire_needs_a_reason_and_only_from_active(world, login):
    indicator = LibraryIndicator.objects.get(code="HLT-Q-001")
    before = state(indicator)
    client = login(world.perf_admin)
    response = client.post(reverse("indicators:indicator_retire", args=[indicator.pk]), {"comment": " "}, follow=True)
    assert "必须填写理由或意见" in response.content.decode()
    assert state(indicator) == before
    with pytest.raises(ValidationError, match="当前状态为“在用”，不能执行“恢复启用”"):
        services.indicator_restore(actor=world.perf_admin, indicator=indicator)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"level1": "satisfaction", "level2": "quality"}, "level2", "不属于一级指标“满意度指标”"),
        ({"name": ""}, "name", "请填写指标名称"),
        ({"comparison": "ge", "unit": ""}, "unit", "定量指标须填写计量单位"),
        (
            {"name": "学生家长满意度", "level1": "satisfaction", "level2": "service_satisfaction"},
            "name",
            "已有同名指标",
        ),
    ],
)
def test_bad_input_gives_a_chinese_field_error_and_changes_nothing(world, login, change, field, message):
    client = login(world.perf_admin)
    count, events = LibraryIndicator.objects.count(), AuditEvent.objects.count()
    response = client.post(reverse("indicators:indicator_create"), {**NEW_INDICATOR, **change})
    page = response.content.decode()
    assert response.status_code == 200 and message in page and f'data-field="{field}"' in page
    assert "数据没有改动" in page
    assert (LibraryIndicator.objects.count(), AuditEvent.objects.count()) == (count, events)
    # The same on edit: the row keeps its values.
    indicator = LibraryIndicator.objects.get(code="EDU-N-001")
    before = state(indicator)
    response = client.post(reverse("indicators:indicator_edit", args=[indicator.pk]), {**NEW_INDICATOR, **change})
    assert response.status_code == 200 and message in response.content.decode()
    assert state(indicator) == before and AuditEvent.objects.count() == events


def test_services_refuse_mismatched_categories_and_used_codes(world):
    with pytest.raises(ValidationError) as exc:
        services.indicator_create(actor=world.perf_admin, **{**NEW_INDICATOR, "level1": "effect"})
    assert "应归入“产出指标”" in exc.value.message_dict["level2"][0]
    with pytest.raises(ValidationError) as exc:
        services.indicator_create(actor=world.perf_admin, code="edu-q-001", **NEW_INDICATOR)
    assert exc.value.message_dict["code"] == ["指标编码“EDU-Q-001”已被使用，请换一个编码或留空自动生成。"]
    assert not LibraryIndicator.objects.filter(name=NEW_INDICATOR["name"]).exists()


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_only_finance_may_manage_the_library(world, login, persona):
    user = getattr(world, persona)
    client = login(user)
    indicator = LibraryIndicator.objects.get(code="EDU-Q-001")
    proposal = propose(world.edu_approver)
    before, proposal_before = state(indicator), state(proposal)
    count, events = LibraryIndicator.objects.count(), AuditEvent.objects.count()

    assert client.get(reverse("indicators:indicator_create")).status_code == 403
    assert client.post(reverse("indicators:indicator_create"), NEW_INDICATOR).status_code == 403
    assert client.get(reverse("indicators:indicator_edit", args=[indicator.pk])).status_code == 403
    assert client.post(reverse("indicators:indicator_edit", args=[indicator.pk]), NEW_INDICATOR).status_code == 403
    for name in ("indicators:indicator_retire", "indicators:indicator_restore"):
        assert client.post(reverse(name, args=[indicator.pk]), {"comment": "x"}).status_code == 403
    for name in ("indicators:proposal_accept", "indicators:proposal_reject"):
        assert client.post(reverse(name, args=[proposal.pk]), {"comment": "x"}).status_code == 403

    api = "/api/v1/indicators/"
    assert client.post(api, NEW_INDICATOR, content_type="application/json").status_code == 403
    assert client.patch(f"{api}{indicator.pk}/", {"name": "改"}, content_type="application/json").status_code == 403
    assert client.post(f"{api}{indicator.pk}/retire/", {"comment": "x"}).status_code == 403
    assert client.post(f"{api}{proposal.pk}/accept/").status_code == 403
    assert client.delete(f"{api}{indicator.pk}/").status_code in (403, 405)

    with pytest.raises(PermissionDenied, match="绩效管理处"):
        services.indicator_create(actor=user, **NEW_INDICATOR)
    with pytest.raises(PermissionDenied):
        services.proposal_accept(actor=user, indicator=proposal, comment="")
    assert (state(indicator), state(proposal)) == (before, proposal_before)
    assert (LibraryIndicator.objects.count(), AuditEvent.objects.count()) == (count, events)


@pytest.mark.parametrize("persona", ["sysadmin", "expert_li", "perf_admin", "npc_liaison"])
def test_only_departments_may_propose(world, login, persona):
    client = login(getattr(world, persona))
    count = LibraryIndicator.objects.count()
    assert client.get(reverse("indicators:proposal_create")).status_code == 403
    data = {**NEW_PROPOSAL, "proposal_reason": "理由"}
    assert client.post(reverse("indicators:proposal_create"), data).status_code == 403
    api = client.post(
        "/api/v1/indicators/propose/", {**NEW_PROPOSAL, "reason": "理由"}, content_type="application/json"
    )
    assert api.status_code == 403
    assert LibraryIndicator.objects.count() == count


@pytest.mark.parametrize(("persona", "status"), [("sysadmin", 403), ("expert_li", 403), ("npc_liaison", 403)])
def test_proposals_page_refused_to_other_roles(world, login, persona, status):
    assert login(getattr(world, persona)).get(reverse("indicators:proposal_queue")).status_code == status


# --- proposals ---------------------------------------------------------------------------------


def test_department_proposes_and_finance_accepts(world, login):
    client = login(world.edu_unit_filler)
    response = client.post(reverse("indicators:proposal_create"), {**NEW_PROPOSAL, "proposal_reason": "研学项目需要"})
    proposal = LibraryIndicator.objects.get(name=NEW_PROPOSAL["name"])
    assert response.status_code == 302 and response.url == reverse("indicators:proposal_queue")
    assert proposal.status == Status.PROPOSED and proposal.code == f"P-{proposal.pk}"
    assert proposal.organization == world.edu and proposal.proposer_organization == world.edu  # the department
    assert proposal.proposed_by == world.edu_unit_filler and not proposal.is_core
    assert AuditEvent.objects.for_object(proposal).get().comment == "研学项目需要"

    queue = login(world.perf_admin).get(reverse("indicators:proposal_queue")).content.decode()
    assert NEW_PROPOSAL["name"] in queue and "采纳入库" in queue and "青岛市教育局" in queue
    client = login(world.perf_admin)
    response = client.post(
        reverse("indicators:proposal_accept", args=[proposal.pk]), {"comment": "同意纳入", "next": "queue"}
    )
    assert response.url == reverse("indicators:proposal_queue")
    proposal.refresh_from_db()
    assert proposal.status == Status.ACTIVE and proposal.organization is None and proposal.code == "EDU-N-006"
    assert proposal.decision_comment == "同意纳入" and proposal.proposer_organization == world.edu
    event = AuditEvent.objects.for_object(proposal).filter(kind="transition").get()
    assert event.changes["code"] == {"from": f"P-{proposal.pk}", "to": "EDU-N-006"} and event.comment == "同意纳入"
    assert proposal.code in codes(selectors.library_search(user=world.health_filler, q="研学"))
    # The department still follows what became of its proposal.
    mine = login(world.edu_approver).get(reverse("indicators:proposal_queue")).content.decode()
    assert NEW_PROPOSAL["name"] in mine and "已采纳" in mine and "同意纳入" in mine

    with pytest.raises(ValidationError, match="当前状态为“在用”，不能执行“采纳”"):
        services.proposal_accept(actor=world.perf_admin, indicator=proposal, comment="")
    client = login(world.perf_admin)
    response = client.post(reverse("indicators:proposal_reject", args=[proposal.pk]), {"comment": "重复"}, follow=True)
    assert "当前状态为“在用”，不能执行“不予采纳”" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == Status.ACTIVE and proposal.decision_comment == "同意纳入"


def test_reject_needs_a_comment_and_the_department_sees_it(world, login):
    proposal = propose(world.edu_filler)
    client = login(world.perf_admin)
    before = state(proposal)
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as exc:
        services.proposal_reject(actor=world.perf_admin, indicator=proposal, comment="  ")
    assert exc.value.message_dict["comment"] == ["执行“不予采纳”必须填写理由或意见。"]
    page = client.post(reverse("indicators:proposal_reject", args=[proposal.pk]), {"comment": ""}, follow=True)
    assert "必须填写理由或意见" in page.content.decode()
    assert state(proposal) == before and AuditEvent.objects.count() == events

    services.proposal_reject(actor=world.perf_admin, indicator=proposal, comment="可用现有“教师培训人次”")
    proposal.refresh_from_db()
    assert proposal.status == Status.REJECTED and proposal.organization == world.edu
    with pytest.raises(ValidationError, match="当前状态为“未采纳”，不能执行“不予采纳”"):
        services.proposal_reject(actor=world.perf_admin, indicator=proposal, comment="再次")
    with pytest.raises(ValidationError, match="当前状态为“未采纳”，不能执行“采纳”"):
        services.proposal_accept(actor=world.perf_admin, indicator=proposal, comment="")
    page = login(world.edu_filler).get(reverse("indicators:proposal_queue")).content.decode()
    assert "未采纳" in page and "可用现有“教师培训人次”" in page


def test_a_department_sees_only_its_own_proposals(world, login):
    edu = propose(world.edu_filler)
    health = propose(world.health_filler, name="基层医疗机构家庭医生团队数", sector="health", unit="个")
    shinan = propose(world.shinan_edu_filler, name="区级研学基地数量", unit="个")

    def names(user):
        return set(selectors.proposal_list(user).values_list("name", flat=True))

    assert names(world.edu_approver) == {edu.name}
    assert names(world.edu_unit_filler) == set()  # a unit sees only its own (none here)
    assert names(world.health_filler) == {health.name}
    assert names(world.shinan_edu_filler) == {shinan.name}
    assert names(world.perf_admin) == {edu.name, health.name, shinan.name}
    assert names(world.expert_li) == set()

    for persona, visible in [("health_filler", False), ("shinan_edu_filler", False), ("edu_approver", True)]:
        client = login(getattr(world, persona))
        status = 200 if visible else 404
        assert client.get(reverse("indicators:indicator_detail", args=[edu.pk])).status_code == status
        assert client.get(f"/api/v1/indicators/{edu.pk}/").status_code == status
        page = client.get(reverse("indicators:proposal_queue")).content.decode()
        assert (edu.name in page) is visible
    for persona in ("expert_li", "npc_liaison", "sector_kjw"):
        assert (
            login(getattr(world, persona)).get(reverse("indicators:indicator_detail", args=[edu.pk])).status_code == 404
        )


def test_proposal_form_errors_are_chinese_and_change_nothing(world, login):
    client = login(world.edu_filler)
    count = LibraryIndicator.objects.count()
    bad = {**NEW_PROPOSAL, "level1": "effect", "proposal_reason": ""}
    page = client.post(reverse("indicators:proposal_create"), bad).content.decode()
    assert "不属于一级指标“效益指标”" in page and "请说明建议理由" in page
    duplicate = {
        **NEW_PROPOSAL,
        "name": "学生家长满意度",
        "level1": "satisfaction",
        "level2": "service_satisfaction",
        "proposal_reason": "x",
    }
    page = client.post(reverse("indicators:proposal_create"), duplicate).content.decode()
    assert "已有同名指标“学生家长满意度”（编码 EDU-M-001）" in page
    assert LibraryIndicator.objects.count() == count


def test_finance_may_polish_a_proposal_before_accepting(world):
    proposal = propose(world.edu_filler)
    services.indicator_update(actor=world.perf_admin, indicator=proposal, name="研学实践活动参与学生人次")
    proposal = services.proposal_accept(actor=world.perf_admin, indicator=proposal, comment="")
    assert proposal.name == "研学实践活动参与学生人次" and proposal.status == Status.ACTIVE


# --- API ---------------------------------------------------------------------------------------


def test_api_search_and_filters(world, login):
    client = login(world.health_filler)
    rows = client.get("/api/v1/indicators/", {"q": "入学率"}).json()["results"]
    assert {"小学学龄儿童净入学率", "高中阶段毛入学率"} <= {r["name"] for r in rows}
    rows = client.get("/api/v1/indicators/", {"sector": "health", "level1": "satisfaction"}).json()["results"]
    assert {r["name"] for r in rows} == {"患者满意度", "签约居民满意度"}
    assert rows[0]["level1_display"] == "满意度指标" and rows[0]["comparison_display"] == "≥"
    everything = client.get("/api/v1/indicators/", {"sector": "bogus"}).json()
    assert everything["count"] >= 220
    detail = client.get(f"/api/v1/indicators/{LibraryIndicator.objects.get(code='HLT-S-001').pk}/").json()
    assert detail["is_core"] and detail["unit"] == "/10万"


def test_api_writes_for_finance(world, login):
    client = login(world.perf_admin)
    created = client.post("/api/v1/indicators/", NEW_INDICATOR, content_type="application/json")
    assert created.status_code == 201 and created.json()["code"] == "EDU-Q-006"
    pk = created.json()["id"]
    patched = client.patch(f"/api/v1/indicators/{pk}/", {"reference_value": "99"}, content_type="application/json")
    assert patched.status_code == 200 and patched.json()["reference_value"] == "99"
    bad = client.patch(f"/api/v1/indicators/{pk}/", {"level1": "effect"}, content_type="application/json")
    assert bad.status_code == 400 and "不属于一级指标" in bad.json()["level2"][0]
    assert LibraryIndicator.objects.get(pk=pk).level1 == "output"
    retired = client.post(f"/api/v1/indicators/{pk}/retire/", {"comment": "合并"}, content_type="application/json")
    assert retired.json()["status"] == "retired"
    assert [e.kind for e in AuditEvent.objects.for_object(LibraryIndicator(pk=pk)).order_by("id")] == [
        "create",
        "update",
        "transition",
    ]


def test_api_proposals_for_departments(world, login):
    client = login(world.edu_filler)
    response = client.post(
        "/api/v1/indicators/propose/", {**NEW_PROPOSAL, "reason": "研学项目"}, content_type="application/json"
    )
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "proposed" and data["proposer_organization_name"] == "青岛市教育局"
    missing = client.post("/api/v1/indicators/propose/", NEW_PROPOSAL, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["reason"] == ["请说明建议理由。"]
    finance = login(world.perf_admin)
    rejected = finance.post(f"/api/v1/indicators/{data['id']}/reject/", {}, content_type="application/json")
    assert rejected.status_code == 400 and "必须填写理由或意见" in rejected.json()["comment"][0]
    accepted = finance.post(f"/api/v1/indicators/{data['id']}/accept/", {}, content_type="application/json")
    assert accepted.json()["status"] == "active" and accepted.json()["code"] == "EDU-N-006"
    again = finance.post(f"/api/v1/indicators/{data['id']}/accept/", {}, content_type="application/json")
    assert again.status_code == 400 and "当前状态为“在用”" in again.json()["non_field_errors"][0]


# --- constant query counts -------------------------------------------------------------------


def grow(world, n=3):
    """More library indicators (all matching the query of the search cases) and one more proposal."""
    start = LibraryIndicator.objects.count()
    for i in range(n):
        services.indicator_create(
            actor=world.perf_admin, **{**NEW_INDICATOR, "name": f"{NEW_INDICATOR['name']}{start}-{i}"}
        )
    propose(world.edu_filler, name=f"研学实践教育课程数量{start}", unit="门")


@pytest.mark.parametrize(
    ("persona", "url", "params", "expected"),
    [
        ("perf_admin", "/indicators/", {}, 9),
        ("edu_filler", "/indicators/", {"q": "校园食堂", "sector": "education"}, 9),
        ("perf_admin", "/api/v1/indicators/", {}, 8),
        ("expert_li", "/api/v1/indicators/", {"q": "校园食堂"}, 8),
        ("edu_filler", "/indicators/proposals/", {}, 9),
        ("perf_admin", "/indicators/proposals/", {}, 9),
    ],
)
def test_library_lists_run_a_constant_number_of_queries(world, login, persona, url, params, expected):
    client = login(getattr(world, persona))
    grow(world)

    def fetch():
        response = client.get(url, params)
        assert response.status_code == 200
        if params.get("q"):
            body = response.content.decode()
            assert body.count("校园食堂食品安全抽检合格率") >= 3

    assert_constant_queries(fetch, lambda: grow(world), expected)


# --- scale -------------------------------------------------------------------------------------


def test_scale_seed_adds_realistic_rows_once():
    assert seed_scale_indicators(n=300) == 300
    assert seed_scale_indicators(n=300) == 0
    scale = LibraryIndicator.objects.filter(code__startswith="SC-IND-")
    assert scale.count() == 300 and scale.values("name").distinct().count() == 300
    first = scale.get(code="SC-IND-00001")
    assert first.name.startswith("市本级") and first.status == Status.ACTIVE and first.organization is None
    assert all(LEVEL2_PARENT[i.level2] == i.level1 for i in scale)
    assert Level1.SATISFACTION in set(scale.values_list("level1", flat=True))
