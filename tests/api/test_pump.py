"""EventPump: keep-alives while the answer is silent, deadlines, and prompt cancellation."""

import asyncio

import pytest

from agents.events import Finished, TextDelta
from api.pump import KEEP_ALIVE, EventPump, _Channel
from fintalk import errors


class Source:
    """An answer whose pauses the test controls, recording how it ended."""

    def __init__(self, script):
        self.script = script
        self.ended = None

    async def events(self):
        try:
            for item in self.script:
                if isinstance(item, asyncio.Event):
                    await item.wait()
                else:
                    yield item
            self.ended = "finished"
        except asyncio.CancelledError:
            self.ended = "cancelled"
            raise


def pump_for(source: Source, **limits) -> EventPump:
    options = {"keepalive": 60.0, "first_token_deadline": 60.0, "deadline": 60.0, **limits}
    return EventPump(source.events(), **options).start()


async def drain(pump: EventPump) -> list:
    items = []
    while (item := await pump.next()) is not None:
        items.append(item)
    return items


def test_events_pass_through_in_order():
    async def main():
        source = Source([TextDelta("a"), TextDelta("b"), Finished("stop")])
        pump = pump_for(source)
        items = await drain(pump)
        await pump.aclose()
        return items, source.ended

    items, ended = asyncio.run(main())

    assert items == [TextDelta("a"), TextDelta("b"), Finished("stop")]
    assert ended == "finished"


def test_silence_produces_keepalives_until_the_answer_continues():
    async def main():
        gate = asyncio.Event()
        source = Source([TextDelta("a"), gate, TextDelta("b")])
        pump = pump_for(source, keepalive=0.01)
        seen = [await pump.next(), await pump.next(), await pump.next()]
        gate.set()
        rest = await drain(pump)
        await pump.aclose()
        return seen, rest

    seen, rest = asyncio.run(main())

    assert seen == [TextDelta("a"), KEEP_ALIVE, KEEP_ALIVE]
    assert [item for item in rest if item is not KEEP_ALIVE] == [TextDelta("b")]


def test_the_first_token_deadline_stops_a_silent_answer():
    async def main():
        source = Source([asyncio.Event(), TextDelta("never")])
        pump = pump_for(source, first_token_deadline=0.02)
        with pytest.raises(errors.UpstreamTimeout, match="first token"):
            await drain(pump)
        await pump.aclose()
        return source.ended

    assert asyncio.run(main()) == "cancelled"


def test_the_first_token_deadline_no_longer_applies_once_text_flows():
    async def main():
        gate = asyncio.Event()
        source = Source([TextDelta("a"), gate, TextDelta("b")])
        pump = pump_for(source, first_token_deadline=0.01)
        first = await pump.next()
        await asyncio.sleep(0.03)  # well past the first-token deadline
        gate.set()
        rest = await drain(pump)
        await pump.aclose()
        return first, rest

    first, rest = asyncio.run(main())

    assert first == TextDelta("a")
    assert rest == [TextDelta("b")]


def test_the_overall_deadline_ends_a_long_answer():
    async def main():
        source = Source([TextDelta("a"), asyncio.Event()])
        pump = pump_for(source, deadline=0.02)
        assert await pump.next() == TextDelta("a")
        with pytest.raises(errors.UpstreamTimeout, match="the answer"):
            await drain(pump)
        await pump.aclose()
        return source.ended

    assert asyncio.run(main()) == "cancelled"


def test_closing_the_pump_cancels_the_answer_at_once():
    async def main():
        source = Source([TextDelta("a"), asyncio.Event()])
        pump = pump_for(source)
        await pump.next()
        await pump.aclose()
        return source.ended

    assert asyncio.run(main()) == "cancelled"


def test_an_error_in_the_answer_reaches_the_consumer():
    async def failing():
        yield TextDelta("a")
        raise errors.UpstreamUnavailable("upstream down")

    async def main():
        pump = EventPump(failing(), keepalive=60, first_token_deadline=60, deadline=60).start()
        first = await pump.next()
        with pytest.raises(errors.UpstreamUnavailable):
            await pump.next()
        await pump.aclose()
        return first

    assert asyncio.run(main()) == TextDelta("a")


def test_a_reader_that_stopped_waiting_loses_nothing_put_afterwards():
    # A deadline or a hang-up can cancel the reader while it waits for the next event.

    async def main():
        channel = _Channel()
        waiting = asyncio.ensure_future(channel.get())
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        channel.put_nowait("a")
        channel.put_nowait("b")
        return [await channel.get(), await channel.get(), channel.empty()]

    assert asyncio.run(main()) == ["a", "b", True]
