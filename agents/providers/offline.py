"""The offline provider: Fintalk's deterministic, rule-based stand-in for a model."""

import logging
from dataclasses import dataclass

from django.conf import settings

from agents.offline.model import OfflineBankingLLM
from agents.providers.base import GenerationParams
from fintalk import errors

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "fintalk-offline"


@dataclass(frozen=True)
class OfflineProvider:
    model: str
    bank_name: str
    word_delay_ms: float
    name: str = "offline"
    reports_usage: bool = False
    url: str | None = None

    @classmethod
    def from_settings(cls, *, model: str = "") -> "OfflineProvider":
        provider = cls(
            model=model or DEFAULT_MODEL,
            bank_name=settings.FINTALK_BANK_NAME,
            word_delay_ms=settings.LLM_OFFLINE_DELAY_MS,
        )
        logger.info("LLM provider offline: model %s, in-process, no network", provider.model)
        return provider

    def llm(self, params: GenerationParams) -> OfflineBankingLLM:
        return OfflineBankingLLM(
            model=self.model, bank_name=self.bank_name, word_delay_ms=self.word_delay_ms
        )

    def upstream_error(self, error: Exception) -> errors.FintalkError | None:
        return None

    async def probe(self) -> None:
        """Always reachable: it runs in this process."""
