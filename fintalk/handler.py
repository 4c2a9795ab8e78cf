"""Django's ASGI handler, without two threads per request that touches no database.

Django's ``ASGIHandler`` gives every request a thread of its own for synchronous work
(asgiref's ``ThreadSensitiveContext``), and starts it for the request's first two
synchronous steps whatever the request does: sending ``request_started`` and, at the end,
closing the response (``request_finished``), both through ``sync_to_async``; leaving the
context then starts a second thread to join the first. The receivers Django connects
there (``reset_queries``, ``close_old_connections``, ``close_caches``, ``reset_urlconf``)
look after the database connections and caches of the thread they run on. A streamed
answer with a remembered API key and no bank tool never opens one, yet paid for the two
threads on the way to its first token and after its last (about 1.4 ms of CPU per request
and 0.4 ms of time to first token, measured in process with ``bench``'s fake upstream).

``ASGIHandler.handle`` here is Django 5.2's, with one change: both signals are sent on the
event loop when neither the loop's thread nor a thread of this request holds a database
connection — the receivers then have nothing to close — and exactly as Django sends them
otherwise. ``tests/fintalk/test_handler.py`` fails when Django's ``handle`` changes, so
that this copy is compared with it again.
"""

import asyncio

from asgiref.sync import SyncToAsync, ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import asgi
from django.db import connections
from django.urls import set_script_prefix


def _signals_on_the_loop(sender: type) -> bool:
    """Whether the request signals may be sent on the event loop: this request has no
    thread of its own yet, the loop's thread has no database connection (the receivers
    that keep connections would find nothing to do) and no receiver is a coroutine (a
    synchronous ``send`` runs those through ``async_to_sync``, which the loop's thread
    cannot)."""
    context = SyncToAsync.thread_sensitive_context.get(None)
    if context is not None and context in SyncToAsync.context_to_thread_executor:
        return False
    if connections.all(initialized_only=True):
        return False
    return not (
        signals.request_started._live_receivers(sender)[1] or signals.request_finished._live_receivers(sender)[1]
    )


class ASGIHandler(asgi.ASGIHandler):
    """Django's ``ASGIHandler``; see the module docstring for the one difference."""

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        async with ThreadSensitiveContext():
            await self.handle(scope, receive, send)

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(asgi.get_script_prefix(scope))
        if _signals_on_the_loop(self.__class__):
            signals.request_started.send(sender=self.__class__, scope=scope)
        else:
            await signals.request_started.asend(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            body_file.close()
            await self.send_response(error_response, send)
            await sync_to_async(error_response.close)()
            return

        async def process_request(request, send):
            response = await self.run_get_response(request)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while the response was sent
            return response

        # The disconnect listener first: it must not raise what would keep process_request
        # from being cancelled.
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request(request, send)),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

        try:
            response = tasks[1].result()
        except asyncio.CancelledError:
            await signals.request_finished.asend(sender=self.__class__)
        else:
            if _signals_on_the_loop(self.__class__):
                response.close()
            else:
                await sync_to_async(response.close)()

        body_file.close()
