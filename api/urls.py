from django.urls import path
from drf_spectacular.views import SpectacularJSONAPIView

from api.health import LLMHealthView
from api.sessions import AgentQueryView, ChatStreamView, SessionChatStreamView
from api.views import ChatCompletionsView, ModelsView, ModelView, NotFoundView

# Mounted at /api/ and /v1/: Vapi's custom-llm appends /chat/completions to its base URL.
# Each path answers with and without a trailing slash; the schema documents the first.
urlpatterns = [
    path("chat/completions", ChatCompletionsView.as_view(), name="chat-completions"),
    path("chat/completions/", ChatCompletionsView.as_view()),
    path("models", ModelsView.as_view(), name="models"),
    path("models/", ModelsView.as_view()),
    path("models/<str:model>", ModelView.as_view(), name="model"),
    path("models/<str:model>/", ModelView.as_view()),
    path("schema", SpectacularJSONAPIView.as_view(), name="schema"),
    path("schema/", SpectacularJSONAPIView.as_view()),
    path("llm/health", LLMHealthView.as_view(), name="llm-health"),
    path("llm/health/", LLMHealthView.as_view()),
    path("agent/query", AgentQueryView.as_view(), name="agent-query"),
    path("agent/query/", AgentQueryView.as_view()),
    path("llm/chat/stream", ChatStreamView.as_view(), name="chat-stream"),
    path("llm/chat/stream/", ChatStreamView.as_view()),
    path("llm/chat/session/stream", SessionChatStreamView.as_view(), name="session-stream"),
    path("llm/chat/session/stream/", SessionChatStreamView.as_view()),
    path("<path:unknown>", NotFoundView.as_view()),
]
