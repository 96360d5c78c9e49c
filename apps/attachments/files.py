"""Checking an uploaded file before anything is stored: name, type (extension and content), size.

Pure functions over the file object; every refusal is a Chinese ``ValidationError`` naming the file.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # settings.ATTACHMENT_MAX_BYTES overrides
MAX_NAME_LENGTH = 255

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office (compound file)
ZIP_SIGNATURE = b"PK\x03\x04"  # Office Open XML is a zip package


@dataclass(frozen=True)
class FileKind:
    label: str  # what the user calls it, for messages
    mime_type: str
    signature: bytes
    ooxml_part: str = ""  # for Office Open XML: the folder the package must contain


KINDS: dict[str, FileKind] = {
    ".pdf": FileKind("PDF", "application/pdf", b"%PDF-"),
    ".png": FileKind("PNG 图片", "image/png", b"\x89PNG\r\n\x1a\n"),
    ".jpg": FileKind("JPEG 图片", "image/jpeg", b"\xff\xd8\xff"),
    ".jpeg": FileKind("JPEG 图片", "image/jpeg", b"\xff\xd8\xff"),
    ".doc": FileKind("Word 文档", "application/msword", OLE_SIGNATURE),
    ".xls": FileKind("Excel 表格", "application/vnd.ms-excel", OLE_SIGNATURE),
    ".docx": FileKind(
        "Word 文档",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ZIP_SIGNATURE,
        "word/",
    ),
    ".xlsx": FileKind(
        "Excel 表格", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP_SIGNATURE, "xl/"
    ),
    ".pptx": FileKind(
        "PowerPoint 演示文稿",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ZIP_SIGNATURE,
        "ppt/",
    ),
}

ACCEPT = ",".join(KINDS)  # for <input type="file" accept="…">
ALLOWED_TEXT = "PDF、PNG/JPEG 图片、Word（.doc/.docx）、Excel（.xls/.xlsx）、PowerPoint（.pptx）"


@dataclass(frozen=True)
class CheckedFile:
    name: str
    extension: str
    mime_type: str
    size: int
    sha256: str


def max_bytes() -> int:
    return int(getattr(settings, "ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def human_size(size: int | None) -> str:
    """Bytes as the page shows them: ``"12.3 KB"``, ``"4.5 MB"``."""
    size = int(size or 0)
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(size / 1024, 0.1):.1f} KB"


def extension_of(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("上传的文件没有文件名。", code="no_name")
    if "/" in name or "\\" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ValidationError(f"文件名“{name}”含有路径分隔符或控制字符，请改名后重新上传。", code="bad_name")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationError(f"文件名“{name[:40]}…”过长（最多 {MAX_NAME_LENGTH} 个字符）。", code="long_name")
    return name


def _content_matches(file, kind: FileKind) -> bool:
    file.seek(0)
    head = file.read(len(kind.signature))
    file.seek(0)
    if head != kind.signature:
        return False
    if not kind.ooxml_part:
        return True
    try:
        with zipfile.ZipFile(file) as package:
            names = package.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    finally:
        file.seek(0)
    return "[Content_Types].xml" in names and any(n.startswith(kind.ooxml_part) for n in names)


def _sha256(file) -> str:
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def check_file(file) -> CheckedFile:
    """Name, type by extension and by content, size; returns what is stored about the file."""
    name = _check_name(getattr(file, "name", ""))
    extension = extension_of(name)
    kind = KINDS.get(extension)
    if kind is None:
        raise ValidationError(f"文件“{name}”的类型不允许上传。可上传的类型：{ALLOWED_TEXT}。", code="extension")
    size = file.size or 0
    if size <= 0:
        raise ValidationError(f"文件“{name}”是空文件，请检查后重新上传。", code="empty")
    limit = max_bytes()
    if size > limit:
        raise ValidationError(
            f"文件“{name}”大小为 {human_size(size)}，超过单个附件 {human_size(limit)} 的上限。", code="too_large"
        )
    if not _content_matches(file, kind):
        raise ValidationError(
            f"文件“{name}”的内容不是有效的{kind.label}，与扩展名“{extension}”不符（文件可能已损坏或被改过扩展名）。",
            code="content",
        )
    return CheckedFile(name=name, extension=extension, mime_type=kind.mime_type, size=size, sha256=_sha256(file))
