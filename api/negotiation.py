from rest_framework.negotiation import BaseContentNegotiation


class IgnoreAcceptNegotiation(BaseContentNegotiation):
    """Always answer with the first renderer.

    OpenAI clients and Vapi send ``Accept: application/json`` (or ``text/event-stream``)
    whatever the reply will be; the body's ``stream`` flag decides, never the header, and
    a client must never get a 406.
    """

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type
