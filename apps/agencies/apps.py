from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "apps.agencies"
    verbose_name = "第三方机构与专家"
