"""The chat page at ``/``: try the assistant in a browser, as bank staff.

Plain HTML, CSS and JavaScript from this app's static files (no build step, no CDN). The
page streams from the session stream endpoint with the staff member's login cookie and a
CSRF token instead of an API key (see ``api/chat_page.py``). ``FINTALK_CHAT_PAGE=false``
switches it off: ``/`` is then a 404 and the login cookie opens nothing in the API.
"""

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from bank.demo import DEMO_CUSTOMERS
from web.activity import TOOL_ACTIVITY, TOOL_ACTIVITY_DEFAULT


@staff_member_required  # anonymous and non-staff visitors go to the admin's login page
@ensure_csrf_cookie
def _chat_page(request):
    return render(
        request,
        "web/chat.html",
        {
            "bank_name": settings.FINTALK_BANK_NAME,
            "customers": [{"name": c.full_name, "phone": c.phone} for c in DEMO_CUSTOMERS],
            "activity": {"tools": TOOL_ACTIVITY, "default": TOOL_ACTIVITY_DEFAULT},
        },
    )


def chat_page(request):
    """``GET /``: the chat page for logged-in staff; a redirect to the admin login otherwise."""
    if not settings.FINTALK_CHAT_PAGE:
        raise Http404("The chat page is switched off (FINTALK_CHAT_PAGE=false).")
    return _chat_page(request)
