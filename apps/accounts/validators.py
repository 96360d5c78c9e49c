"""Password policy: length, character classes, not the username, not one of the last N."""

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError

from .models import PasswordHistory, SecurityPolicy


class PolicyLengthValidator:
    def validate(self, password, user=None):
        minimum = SecurityPolicy.current().password_min_length
        if len(password) < minimum:
            raise ValidationError(f"密码至少需要 {minimum} 个字符。", code="password_too_short")

    def get_help_text(self):
        return f"至少 {SecurityPolicy.current().password_min_length} 个字符。"


CLASSES = {
    "小写字母": str.islower,
    "大写字母": str.isupper,
    "数字": str.isdigit,
    "符号": lambda ch: not ch.isalnum(),
}


class CharacterClassValidator:
    required = 3

    def validate(self, password, user=None):
        present = {name for name, test in CLASSES.items() if any(test(ch) for ch in password)}
        if len(present) < self.required:
            raise ValidationError("密码须包含大写字母、小写字母、数字、符号中的至少 3 类。", code="password_too_simple")

    def get_help_text(self):
        return "须包含大写字母、小写字母、数字、符号中的至少 3 类。"


class NotUsernameValidator:
    def validate(self, password, user=None):
        username = (getattr(user, "username", "") or "").lower()
        if username and (username in password.lower() or username[::-1] in password.lower()):
            raise ValidationError("密码不能包含用户名。", code="password_contains_username")

    def get_help_text(self):
        return "不能包含用户名。"


class PasswordHistoryValidator:
    """Refuses the current and the last N-1 previous passwords; records each new one."""

    def validate(self, password, user=None):
        if user is None or not user.pk:
            return
        keep = SecurityPolicy.current().password_history
        previous = list(PasswordHistory.objects.filter(user=user).values_list("encoded", flat=True)[:keep])
        if any(check_password(password, encoded) for encoded in previous):
            raise ValidationError(f"新密码不能与最近 {keep} 次使用过的密码相同。", code="password_reused")

    def password_changed(self, password, user=None):
        if user is None or not user.pk:
            return
        PasswordHistory.objects.create(user=user, encoded=user.password)
        keep = SecurityPolicy.current().password_history
        stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[keep:]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self):
        return f"不能与最近 {SecurityPolicy.current().password_history} 次使用过的密码相同。"
