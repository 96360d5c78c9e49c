"""The common indicator framework (domain.md): 一级 and 二级 categories, comparisons, sectors.

Reference data in code: scoring and quality checks refer to these codes, so they are constants,
not rows an administrator could rename away.
"""

from django.db import models


class Level1(models.TextChoices):
    OUTPUT = "output", "产出指标"
    EFFECT = "effect", "效益指标"
    SATISFACTION = "satisfaction", "满意度指标"
    COST = "cost", "成本指标"


class Level2(models.TextChoices):
    QUANTITY = "quantity", "数量指标"
    QUALITY = "quality", "质量指标"
    TIMELINESS = "timeliness", "时效指标"
    OUTPUT_COST = "output_cost", "成本指标（产出）"
    ECONOMIC = "economic", "经济效益指标"
    SOCIAL = "social", "社会效益指标"
    ECOLOGICAL = "ecological", "生态效益指标"
    SUSTAINABLE = "sustainable", "可持续影响指标"
    SERVICE_SATISFACTION = "service_satisfaction", "服务对象满意度指标"
    ECONOMIC_COST = "economic_cost", "经济成本指标"
    SOCIAL_COST = "social_cost", "社会成本指标"
    ECOLOGICAL_COST = "ecological_cost", "生态环境成本指标"


LEVEL2_PARENT: dict[str, str] = {
    Level2.QUANTITY: Level1.OUTPUT,
    Level2.QUALITY: Level1.OUTPUT,
    Level2.TIMELINESS: Level1.OUTPUT,
    Level2.OUTPUT_COST: Level1.OUTPUT,
    Level2.ECONOMIC: Level1.EFFECT,
    Level2.SOCIAL: Level1.EFFECT,
    Level2.ECOLOGICAL: Level1.EFFECT,
    Level2.SUSTAINABLE: Level1.EFFECT,
    Level2.SERVICE_SATISFACTION: Level1.SATISFACTION,
    Level2.ECONOMIC_COST: Level1.COST,
    Level2.SOCIAL_COST: Level1.COST,
    Level2.ECOLOGICAL_COST: Level1.COST,
}

# The 一级 categories every target must carry (成本指标 is optional: 2021 central guideline).
REQUIRED_LEVEL1 = (Level1.OUTPUT, Level1.EFFECT, Level1.SATISFACTION)


class Comparison(models.TextChoices):
    GE = "ge", "≥"
    LE = "le", "≤"
    EQ = "eq", "="
    QUALITATIVE = "qualitative", "定性"

    @classmethod
    def from_symbol(cls, text: str) -> "Comparison | None":
        """'≥', '>=', '大于等于' … → Comparison (for Excel imports); None if unknown."""
        aliases = {
            "≥": cls.GE, ">=": cls.GE, "大于等于": cls.GE, "不低于": cls.GE,
            "≤": cls.LE, "<=": cls.LE, "小于等于": cls.LE, "不高于": cls.LE,
            "=": cls.EQ, "＝": cls.EQ, "等于": cls.EQ,
            "定性": cls.QUALITATIVE,
        }  # fmt: skip
        return aliases.get((text or "").strip())


class Sector(models.TextChoices):
    GENERAL = "general", "通用"
    EDUCATION = "education", "教育"
    HEALTH = "health", "卫生健康"
    TRANSPORT = "transport", "交通运输"
    AGRICULTURE = "agriculture", "农业农村"
    SCIENCE = "science", "科学技术"
    CIVIL = "civil", "民政"
    ENVIRONMENT = "environment", "生态环境"
    CULTURE = "culture", "文化和旅游"
    OCEAN = "ocean", "海洋"
    INDUSTRY = "industry", "工业和信息化"
    HRSS = "hrss", "人力资源和社会保障"
    HOUSING = "housing", "住房和城乡建设"
