from django.urls import path, re_path

from api.views import ChatCompletionsView, ModelsView, NotFoundView

# Mounted at /api/ and /v1/: Vapi's custom-llm appends /chat/completions to its base URL.
urlpatterns = [
    re_path(r"^chat/completions/?$", ChatCompletionsView.as_view(), name="chat-completions"),
    re_path(r"^models/?$", ModelsView.as_view(), name="models"),
    path("<path:unknown>", NotFoundView.as_view()),
]
