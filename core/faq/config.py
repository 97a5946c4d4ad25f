"""The `faq:` section of the organisation YAML: how sure the bot must be before it answers."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FaqConfig(BaseModel):
    """HR FAQ answering: how sure the bot must be (0 to 1) and how many close questions to offer."""

    # Defaults chosen with the fused ranking on bench/data/faq_dev.yaml and the tuning fixtures
    # (bench/faq_eval.py): at 0.30 about 1 in 20 of those out-of-scope questions is answered.

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer_at: float = Field(
        0.30,
        ge=0,
        le=1,
        description="At or above this confidence the bot answers (\"I'm fairly sure this answers "
        'it") in channels and to `faq …`; below it, it says it is not sure and offers the '
        "closest questions.",
    )
    sure_at: float = Field(
        0.45,
        ge=0,
        le=1,
        description='At or above this it says "I\'m confident this answers it"; a question typed '
        "in a personal chat without `faq` is only answered at this level.",
    )
    suggestions: int = Field(
        3, ge=1, le=5, description="How many close questions to offer when the bot is not sure."
    )

    @model_validator(mode="after")
    def _ordered(self) -> FaqConfig:
        if self.sure_at < self.answer_at:
            raise ValueError("sure_at must be at least answer_at")
        return self
