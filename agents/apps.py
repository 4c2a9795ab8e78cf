from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agent"

    def ready(self) -> None:
        from agents.providers import provider_configured, provider_fallbacks

        # Fail at start-up, not on the first call, when the provider settings are wrong.
        provider_configured()
        provider_fallbacks()
