"""Evidence attachments (证明材料): checks before storing, private storage, scoped download and delete, audit."""

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest
from django.apps import apps as django_apps

if not django_apps.is_installed("apps.attachments"):  # until qdperf/settings.py lists the app
    pytest.skip("apps.attachments is not in INSTALLED_APPS", allow_module_level=True)

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import File
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.urls import reverse

from apps.attachments import selectors, services
from apps.attachments.models import Attachment
from apps.core import audit
from apps.core.models import AuditEvent
from apps.targets import services as target_services
from tests.test_targets_flow import filed_target, make_fund

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
NAME = "2026年度资助资金发放证明.pdf"


def ooxml(part: str) -> bytes:
    """A minimal Office Open XML package whose main part lives under ``part`` (word/, xl/, ppt/)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", "<Types/>")
        package.writestr(f"{part}main.xml", "<x/>")
    return buffer.getvalue()


def upload(name: str = NAME, content: bytes = PDF, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def media(tmp_path, settings):
    """Uploaded files go to a throw-away MEDIA_ROOT."""
    root = tmp_path / "private_media"
    settings.MEDIA_ROOT = root
    return root


@pytest.fixture
def target(world, year):
    """A draft target of 青岛第二中学 (under 教育局)."""
    return filed_target(world, make_fund(world, year))


def add(world, target, *, actor=None, file=None, **kwargs) -> Attachment:
    return services.attachment_add(
        actor=actor or world.edu_unit_filler,
        obj=target,
        file=file or upload(),
        view_action="target.view",
        edit_action="target.edit",
        **kwargs,
    )


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload_url(target) -> str:
    return reverse("attachments:upload", args=[ContentType.objects.get_for_model(target).pk, target.pk])


def detail_url(target) -> str:
    return reverse("targets:target_detail", args=[target.pk])


def attachment_events(target):
    return AuditEvent.objects.for_object(target).filter(comment__contains="附件")


# --- upload ----------------------------------------------------------------------------------------


def test_owner_uploads_a_pdf_through_the_page(world, target, media, login):
    client = login(world.edu_unit_filler)
    response = client.post(
        upload_url(target),
        {
            "file": upload(content_type="application/octet-stream"),
            "description": "银行回单",
            "next": detail_url(target),
            # A client cannot choose the actions: they come from the registry.
            "view_action": "org.view",
            "edit_action": "fund.edit",
        },
    )
    assert response.status_code == 302 and response.url == detail_url(target)

    attachment = Attachment.objects.get()
    assert attachment.parent == target
    assert attachment.organization == world.edu_unit
    assert (attachment.view_action, attachment.edit_action) == ("target.view", "target.edit")
    assert attachment.original_name == NAME
    assert attachment.mime_type == "application/pdf"  # sniffed, not the browser's claim
    assert attachment.size == len(PDF)
    assert attachment.description == "银行回单"
    assert attachment.uploaded_by == world.edu_unit_filler

    # Stored under MEDIA_ROOT at a dated random path; the user's name is not part of it.
    assert re.fullmatch(r"attachments/\d{4}/\d{2}/[0-9a-f]{32}\.pdf", attachment.file.name)
    path = Path(attachment.file.path)
    assert path.is_relative_to(media) and path.read_bytes() == PDF
    for public in [settings.STATIC_ROOT, *settings.STATICFILES_DIRS]:
        assert not path.is_relative_to(Path(public))
    assert stored_files(media) == [path]

    event = attachment_events(target).get()
    assert event.kind == AuditEvent.Kind.CREATE
    assert event.actor == world.edu_unit_filler and event.organization == world.edu_unit
    assert NAME in event.comment and attachment.sha256 in event.comment
    assert event.changes == {"附件": {"from": None, "to": NAME}}


@pytest.mark.parametrize(
    ("name", "content", "mime_type"),
    [
        ("照片.png", PNG, "image/png"),
        ("现场照片.JPG", JPEG, "image/jpeg"),
        ("会议纪要.docx", ooxml("word/"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("明细表.xlsx", ooxml("xl/"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("汇报.pptx", ooxml("ppt/"), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
        ("旧版通知.doc", OLE, "application/msword"),
        ("旧版台账.xls", OLE, "application/vnd.ms-excel"),
    ],
)
def test_allowed_types_are_accepted(world, target, media, name, content, mime_type):
    attachment = add(world, target, file=upload(name, content))
    assert attachment.mime_type == mime_type
    assert attachment.file.name.endswith(Path(name).suffix.lower())


@pytest.mark.parametrize(
    ("file", "message"),
    [
        (upload("安装程序.exe", EXE), "类型不允许上传"),
        (upload("说明.txt", b"hello"), "类型不允许上传"),
        (upload("没有扩展名", PDF), "类型不允许上传"),
        (upload("伪装成PDF.pdf", EXE), "不是有效的PDF"),
        (upload("其实是图片.pdf", PNG), "不是有效的PDF"),
        (upload("普通压缩包.docx", b"PK\x03\x04" + b"\x00" * 40), "不是有效的Word 文档"),
        (upload("表格伪装文档.docx", ooxml("xl/")), "不是有效的Word 文档"),
        (upload("空文件.pdf", b""), "是空文件"),
        (File(io.BytesIO(PDF), name="..\\..\\static\\evil.pdf"), "路径分隔符"),
        (File(io.BytesIO(PDF), name="../../static/evil.pdf"), "路径分隔符"),
    ],
    ids=["exe", "txt", "no-ext", "exe-as-pdf", "png-as-pdf", "zip-as-docx", "xlsx-as-docx", "empty", "bs", "slash"],
)
def test_refused_files_write_nothing(world, target, media, file, message):
    with pytest.raises(ValidationError) as caught:
        add(world, target, file=file)
    text = "；".join(caught.value.messages)
    assert message in text
    assert file.name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1] in text  # the message names the file
    assert not Attachment.objects.exists()
    assert stored_files(media) == []
    assert not attachment_events(target).exists()


def test_size_limit_comes_from_settings(world, target, media, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    big = PDF + b"0" * (1025 - len(PDF))
    with pytest.raises(ValidationError, match="超过单个附件 1.0 KB 的上限"):
        add(world, target, file=upload("大文件.pdf", big))
    assert not Attachment.objects.exists() and stored_files(media) == []
    assert add(world, target, file=upload("刚好.pdf", big[:1024])).size == 1024


def test_refused_upload_through_the_page_shows_the_reason(world, target, media, login):
    client = login(world.edu_unit_filler)
    response = client.post(
        upload_url(target), {"file": upload("伪装.pdf", EXE), "next": detail_url(target)}, follow=True
    )
    assert "文件“伪装.pdf”的内容不是有效的PDF" in response.content.decode()
    assert not Attachment.objects.exists() and stored_files(media) == []

    response = client.post(upload_url(target), {"file": upload("伪装.pdf", EXE)}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "不是有效的PDF" in response.content.decode() and 'id="attachments-targets-performancetarget-' in (
        response.content.decode()
    )


def test_same_content_twice_is_refused(world, target, media):
    add(world, target)
    with pytest.raises(ValidationError, match="内容相同"):
        add(world, target, file=upload("副本.pdf"))
    assert Attachment.objects.count() == 1 and len(stored_files(media)) == 1


def test_a_failed_database_write_removes_the_stored_file(world, target, media, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        add(world, target)
    assert not Attachment.objects.exists() and stored_files(media) == []


def test_only_writers_in_scope_may_upload(world, target, media, login):
    for user in [world.health_filler, world.shinan_edu_filler, world.perf_admin, world.sysadmin]:
        with pytest.raises(PermissionDenied):
            add(world, target, actor=user)
    assert add(world, target, actor=world.edu_filler).uploaded_by == world.edu_filler  # the department: yes

    # Through the page: outsiders cannot tell the record exists; a reader without the edit right gets 403.
    for user, status in [
        (world.health_filler, 404),
        (world.shinan_edu_filler, 404),
        (world.sysadmin, 404),
        (world.perf_admin, 403),
    ]:
        response = login(user).post(upload_url(target), {"file": upload("另一份.pdf", PDF + b"x")})
        assert response.status_code == status, user.username
    assert Attachment.objects.count() == 1 and len(stored_files(media)) == 1


def test_unregistered_or_missing_records_take_no_uploads(world, target, media, login):
    client = login(world.perf_admin)
    org_type = ContentType.objects.get_for_model(world.edu_unit)
    for url in [
        reverse("attachments:upload", args=[org_type.pk, world.edu_unit.pk]),  # not registered
        reverse("attachments:upload", args=[ContentType.objects.get_for_model(target).pk, 999999]),
        reverse("attachments:upload", args=[ContentType.objects.get_for_model(target).pk, "abc"]),
        reverse("attachments:upload", args=[999999, 1]),
    ]:
        assert login(world.edu_unit_filler).post(url, {"file": upload()}).status_code == 404, url
    assert client.get(upload_url(target)).status_code == 405
    assert not Attachment.objects.exists() and stored_files(media) == []


def test_no_attachments_once_the_target_left_draft(world, target, media):
    attachment = add(world, target)
    target_services.target_send(actor=world.edu_unit_filler, target=target)
    with pytest.raises(ValidationError, match="当前状态为“待部门审核”"):
        add(world, target, file=upload("补充.pdf", PDF + b"more"))
    with pytest.raises(ValidationError, match="不能再上传或删除附件"):
        services.attachment_delete(actor=world.edu_unit_filler, attachment=attachment)
    assert Attachment.objects.count() == 1 and len(stored_files(media)) == 1


# --- download ---------------------------------------------------------------------------------------


def test_download_as_attachment_with_chinese_name(world, target, media, login):
    attachment = add(world, target)
    url = reverse("attachments:download", args=[attachment.pk])
    for user in [world.edu_unit_filler, world.edu_filler, world.edu_approver, world.sector_kjw, world.perf_admin,
                 world.auditor, world.npc_liaison]:  # fmt: skip
        response = login(user).get(url)
        assert response.status_code == 200, user.username
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == f"attachment; filename*=utf-8''{quote(NAME)}"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox"
        assert "no-store" in response["Cache-Control"]


def test_outsiders_get_404_and_cannot_delete(world, target, media, login):
    attachment = add(world, target)
    for user in [world.health_filler, world.shinan_edu_filler, world.shinan_finance, world.sysadmin,
                 world.expert_li, world.audit_admin]:  # fmt: skip
        client = login(user)
        assert client.get(reverse("attachments:download", args=[attachment.pk])).status_code == 404, user.username
        assert client.post(reverse("attachments:delete", args=[attachment.pk])).status_code == 404, user.username
        with pytest.raises(PermissionDenied):
            services.attachment_delete(actor=user, attachment=attachment)
    # An id that does not exist looks the same as one the user may not see.
    assert login(world.health_filler).get(reverse("attachments:download", args=[999999])).status_code == 404
    assert Attachment.objects.filter(pk=attachment.pk).exists()
    assert Path(attachment.file.path).exists()
    assert attachment_events(target).count() == 1  # the upload only


def test_anonymous_is_sent_to_login(world, target, media, client):
    attachment = add(world, target)
    response = client.get(reverse("attachments:download", args=[attachment.pk]))
    assert response.status_code == 302 and reverse("accounts:login") in response.url


def test_missing_file_on_disk_is_404(world, target, media, login):
    attachment = add(world, target)
    Path(attachment.file.path).unlink()
    assert login(world.edu_unit_filler).get(reverse("attachments:download", args=[attachment.pk])).status_code == 404


# --- delete -----------------------------------------------------------------------------------------


def test_owner_deletes_file_after_commit(world, target, media, login, django_capture_on_commit_callbacks):
    attachment = add(world, target)
    path = Path(attachment.file.path)
    assert login(world.perf_admin).post(reverse("attachments:delete", args=[attachment.pk])).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = login(world.edu_unit_filler).post(
            reverse("attachments:delete", args=[attachment.pk]), {"next": detail_url(target)}
        )
    assert response.status_code == 302 and response.url == detail_url(target)
    assert not Attachment.objects.exists()
    assert not path.exists()
    deleted = attachment_events(target).filter(kind=AuditEvent.Kind.UPDATE).get()
    assert deleted.actor == world.edu_unit_filler and deleted.comment.startswith(f"删除附件“{NAME}”")
    assert deleted.changes == {"附件": {"from": NAME, "to": None}}


# --- the panel a record page includes ---------------------------------------------------------------

PANEL = Template('{% include "attachments/partials/list.html" with obj=target %}')


def render_panel(user, target, rf) -> str:
    request = rf.get(detail_url(target))
    request.user = user
    return PANEL.render(Context({"target": target, "user": user, "request": request}))


def test_panel_lists_files_and_offers_upload_and_delete_to_writers(world, target, media, rf):
    first = add(world, target, description="银行回单")
    add(world, target, file=upload("现场照片.png", PNG + b"\x01" * 3000))

    html = render_panel(world.edu_unit_filler, target, rf)
    assert reverse("attachments:download", args=[first.pk]) in html
    assert NAME in html and "现场照片.png" in html and "银行回单" in html
    assert "0.1 KB" in html and "3.0 KB" in html
    assert world.edu_unit_filler.display_name in html
    assert upload_url(target) in html and 'accept=".pdf,.png,.jpg,.jpeg,.doc,.xls,.docx,.xlsx,.pptx"' in html
    assert html.count("attachment-delete") == 2

    reader = render_panel(world.perf_admin, target, rf)
    assert NAME in reader and upload_url(target) not in reader and "attachment-delete" not in reader

    assert NAME not in render_panel(world.health_filler, target, rf)


def test_visible_attachments_costs_one_query(world, target, media, django_assert_num_queries):
    for n in range(3):
        add(world, target, file=upload(f"材料{n}.pdf", PDF + bytes([n])))
    target.organization  # noqa: B018  (the page has loaded the owner already)
    with django_assert_num_queries(1):
        rows = selectors.visible_attachments(world.edu_filler, target)
    assert [r.original_name for r in rows] == ["材料0.pdf", "材料1.pdf", "材料2.pdf"]
    assert all(r.may_delete for r in rows)
