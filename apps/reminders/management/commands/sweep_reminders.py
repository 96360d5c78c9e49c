"""Run the reminder sweep now, in this process: exactly what the periodic Celery task runs."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from apps.reminders import services


class Command(BaseCommand):
    help = "扫描到期、逾期的待办事项，生成催办提醒（站内通知与邮件），每条提醒只发一次。"

    def add_arguments(self, parser):
        parser.add_argument("--date", help="按这一天扫描（YYYY-MM-DD，默认今天），用于试算")

    def handle(self, *args, date: str | None = None, **options):
        day = None
        if date:
            try:
                day = _parse(date)
            except ValueError:
                raise CommandError(f"日期“{date}”格式不对，应为 YYYY-MM-DD。") from None
        report = services.sweep_round(day)
        self.stdout.write(str(report))
        for code, count in report.by_source.items():
            self.stdout.write(f"  {services.SOURCE_LABELS.get(code, code)}：{count} 项")


def _parse(text: str) -> date:
    return date.fromisoformat(text)
