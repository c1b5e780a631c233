"""The estimates app's models, one module per concern; import them from here."""

from .coefficients import (
    MODEL_CLASS_CHOICES,
    TOKEN_TYPE_CHOICES,
    Band,
    Coefficient,
    CoefficientGroup,
    CoefficientSet,
    ModelClassRule,
)
from .pushed import Billing, PushedSource
from .samples import (
    DailyCost,
    DailyUsage,
    FlaggedProjection,
    Projection,
    Sample,
    SampleStatus,
    SampleTrigger,
    UnclassifiedModel,
)

__all__ = [
    "MODEL_CLASS_CHOICES",
    "TOKEN_TYPE_CHOICES",
    "Band",
    "Billing",
    "Coefficient",
    "CoefficientGroup",
    "CoefficientSet",
    "DailyCost",
    "DailyUsage",
    "FlaggedProjection",
    "ModelClassRule",
    "Projection",
    "PushedSource",
    "Sample",
    "SampleStatus",
    "SampleTrigger",
    "UnclassifiedModel",
]
