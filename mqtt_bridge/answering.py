"""One MQTT request through the same pipeline as HTTP: key, rate limit, validation, agent, log.

Nothing here is MQTT-specific but where the answer goes: authentication
(``api.keys``), limits (``api.ratelimit``), validation (``api.serializers``), identity and
the conversation log (``api.completions.start_completion``, channel ``mqtt``), deadlines
and cancellation (``api.reply``, the one reply loop) are the HTTP API's own.
"""

import asyncio
import time

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from rest_framework.exceptions import ValidationError

from agents.providers import provider_configured
from api.completions import Completion, chat_request_parse, start_completion
from api.errors import as_fintalk_error
from api.framing import ChatCompletionJson
from api.keys import api_key_authenticate
from api.pump import KEEP_ALIVE
from api.ratelimit import rate_limit_check
from api.reply import reply_close, reply_frames, reply_start, start_pump
from fintalk import errors
from fintalk.text import OFF_LOOP_THRESHOLD
from mqtt_bridge.incoming import AUTHORIZATION_PROPERTY, IncomingRequest
from mqtt_bridge.outgoing import ChunkMessages, Reply, StreamPublisher

CHANNEL = "mqtt"


async def _completion_start(request: IncomingRequest, *, started: float) -> Completion:
    if not request.authorization:
        raise errors.NotAuthenticated(
            f"Missing API key: send the MQTT 5 user property {AUTHORIZATION_PROPERTY!r} = "
            "'Bearer <key>', or (MQTT 3.1.1) the field api_key in the request body."
        )
    api_key = await api_key_authenticate(authorization=request.authorization)
    await rate_limit_check(api_key=api_key, client_ip=None)

    def prepare() -> Completion:
        try:
            chat = chat_request_parse(request.body, conversation_header=request.conversation)
        except ValidationError as invalid:
            raise as_fintalk_error(invalid) from None
        return start_completion(
            chat,
            stream=chat.streams(default=True),  # the bridge streams unless told not to
            api_key=api_key,
            provider=provider_configured(),
            started=started,
            channel=CHANNEL,
        )

    if request.size > OFF_LOOP_THRESHOLD:
        return await asyncio.to_thread(prepare)  # as over HTTP: checking 1 MB takes ~0.2 s
    return prepare()


async def request_answer(request: IncomingRequest, reply: Reply) -> None:
    """Publish the answer to ``request`` (or its error) on ``reply``; raises only MQTT errors.

    A streamed answer is the chunks then ``[DONE]``; otherwise one ``chat.completion``.
    Cancelling it stops the agent and logs the conversation as cancelled.
    """
    started = time.perf_counter()
    await sync_to_async(close_old_connections)()
    if request.problem is not None:
        await reply.publish_error(request.problem, stream=request.stream)
        return
    try:
        completion = await _completion_start(request, started=started)
    except errors.FintalkError as error:
        await reply.publish_error(error, stream=request.stream)
        return
    if completion.stream:
        await _stream(completion, reply)
        return
    document = ChatCompletionJson(completion_id=completion.id, created=completion.created, model=completion.model)
    try:
        pump, first = await reply_start(completion)
        answer = b"".join([frame async for frame in reply_frames(completion, pump, first, document)])
    except errors.FintalkError as error:
        await reply.publish_error(error, stream=False)
        return
    await reply.publish(answer, last=True)


async def _stream(completion: Completion, reply: Reply) -> None:
    framing = ChunkMessages(
        completion_id=completion.id,
        created=completion.created,
        model=completion.model,
        include_usage=completion.include_usage,
    )
    publisher = StreamPublisher(reply, framing)
    sending = asyncio.create_task(publisher.run())
    # Started with a keep-alive as the "first event": over MQTT nothing waits for headers,
    # so a failure before the first word is framed like one after it (error, [DONE]).
    pump = start_pump(completion)
    events = reply_frames(completion, pump, KEEP_ALIVE, framing)
    try:
        async for item in events:
            if sending.done():  # the broker connection failed: stop answering
                break
            publisher.put(item)
        publisher.close()
        await sending
    finally:
        await events.aclose()
        # Also when the stream was closed before it began: the turn was then cancelled.
        await reply_close(completion, pump, asyncio.CancelledError())
        sending.cancel()
