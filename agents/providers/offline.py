"""The offline provider: Fintalk's deterministic, rule-based stand-in for a model."""

from dataclasses import dataclass

from django.conf import settings

from agents.offline.model import OfflineBankingLLM
from agents.providers.base import GenerationParams

DEFAULT_MODEL = "fintalk-offline"


@dataclass(frozen=True)
class OfflineProvider:
    model: str
    bank_name: str
    word_delay_ms: float
    name: str = "offline"
    reports_usage: bool = False

    @classmethod
    def from_settings(cls) -> "OfflineProvider":
        return cls(
            model=settings.LLM_MODEL or DEFAULT_MODEL,
            bank_name=settings.FINTALK_BANK_NAME,
            word_delay_ms=settings.LLM_OFFLINE_DELAY_MS,
        )

    def llm(self, params: GenerationParams) -> OfflineBankingLLM:
        return OfflineBankingLLM(
            model=self.model, bank_name=self.bank_name, word_delay_ms=self.word_delay_ms
        )
