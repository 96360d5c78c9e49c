"""Users (one organisation, one or more roles), password history and the security policy."""

from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.cache import cache
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from apps.core.scoping import ScopedQuerySet


class UserQuerySet(ScopedQuerySet):
    pass


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    real_name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField(
        "手机号",
        max_length=11,
        blank=True,
        validators=[RegexValidator(r"^1\d{10}$", "手机号应为以 1 开头的 11 位数字。")],
    )
    organization = models.ForeignKey(
        "orgs.Organization",
        verbose_name="所属机构",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    # Sector reviewers (财政业务处室) review the departments assigned to them.
    assigned_departments = models.ManyToManyField(
        "orgs.Organization",
        verbose_name="分管部门",
        blank=True,
        related_name="sector_reviewers",
        limit_choices_to={"kind": "department"},
    )
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True)

    objects = ScopedUserManager()

    class Meta:
        verbose_name = verbose_name_plural = "用户"
        ordering = ["username"]

    def __str__(self) -> str:
        return f"{self.real_name}（{self.username}）" if self.real_name else self.username

    @property
    def display_name(self) -> str:
        return self.real_name or self.username

    @cached_property
    def role_codes(self) -> frozenset[str]:
        # Uses the prefetched groups when the auth backend loaded them (one query per request).
        return frozenset(group.name for group in self.groups.all())

    @property
    def role_labels(self) -> list[str]:
        from .roles import Role

        return [Role(code).label for code in sorted(self.role_codes) if code in Role.values]

    @cached_property
    def assigned_department_paths(self) -> tuple[str, ...]:
        return tuple(self.assigned_departments.values_list("path", flat=True))

    def has_role(self, *codes: str) -> bool:
        return bool(self.role_codes.intersection(codes))


class PasswordHistory(models.Model):
    """Hashes of a user's previous passwords, so the last N cannot be reused."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    encoded = models.CharField(max_length=256)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.created_at:%Y-%m-%d}"


POLICY_CACHE_KEY = "accounts:security-policy"


class SecurityPolicy(models.Model):
    """Account security settings that the security administrator (安全管理员) sets.

    One row (pk=1). Read through ``SecurityPolicy.current()``, which caches it.
    """

    password_min_length = models.PositiveSmallIntegerField(
        "密码最短长度", default=10, validators=[MinValueValidator(8)]
    )
    password_history = models.PositiveSmallIntegerField(
        "不得与最近几次密码相同", default=5, validators=[MinValueValidator(1)]
    )
    lockout_attempts = models.PositiveSmallIntegerField(
        "连续登录失败锁定次数", default=5, validators=[MinValueValidator(3)]
    )
    lockout_minutes = models.PositiveSmallIntegerField(
        "锁定时长（分钟）", default=15, validators=[MinValueValidator(1)]
    )
    session_idle_minutes = models.PositiveSmallIntegerField(
        "闲置自动退出（分钟）", default=30, validators=[MinValueValidator(5)]
    )

    FIELDS = ["password_min_length", "password_history", "lockout_attempts", "lockout_minutes", "session_idle_minutes"]

    class Meta:
        verbose_name = verbose_name_plural = "安全策略"
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="security_policy_singleton")]

    def __str__(self) -> str:
        return "安全策略"

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)
        cache.delete(POLICY_CACHE_KEY)

    @classmethod
    def current(cls) -> "SecurityPolicy":
        policy = cache.get(POLICY_CACHE_KEY)
        if policy is None:
            policy = cls.objects.filter(pk=1).first() or cls(pk=1)
            cache.set(POLICY_CACHE_KEY, policy, 300)
        return policy
