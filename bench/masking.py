"""CPU cost of card-number masking: per streamed chunk, and per request's history.

    .venv/bin/python -m bench.masking

Every streamed delta passes ``CardNumberStreamFilter.feed`` and every message of the
history passes ``mask_card_numbers`` (``fintalk.masking``). This feeds a typical answer
word by word (as providers stream it) and masks a typical history, many times, and prints
the process CPU time per chunk and per history. No Django, no server: the function alone.
"""

import re
import time

from fintalk.masking import CardNumberStreamFilter, mask_card_numbers

ANSWER = (
    "Your Visa ending 4567 has a statement balance of $1,234.56, due on December 15, 2026. "
    "The minimum payment is $35.00. I can pay it from your checking account if you like. "
    "For your security I only ever share the last four digits of a card. "
)
PLAIN = (
    "I can help with your balances and transactions, your credit cards, transfers between "
    "your accounts, our loans, and questions about the bank. What would you like to know? "
)
WITH_CARD = ANSWER + "The card 4539 5787 6362 1486 is now frozen. "
ROUNDS = 2000


def cpu_per_chunk(text: str, rounds: int = ROUNDS) -> float:
    """Microseconds of CPU per ``feed`` call, ``text`` streamed word by word."""
    chunks = re.findall(r"\s*\S+", text)
    start = time.process_time()
    for _ in range(rounds):
        cards = CardNumberStreamFilter()
        for chunk in chunks:
            cards.feed(chunk)
        cards.flush()
    return (time.process_time() - start) / (rounds * len(chunks)) * 1e6


def cpu_per_history(messages: list[str], rounds: int = ROUNDS // 4) -> float:
    """Microseconds of CPU to mask every message of a history once."""
    start = time.process_time()
    for _ in range(rounds):
        for message in messages:
            mask_card_numbers(message)
    return (time.process_time() - start) / rounds * 1e6


def main() -> None:
    print(f"words without digits:  {cpu_per_chunk(PLAIN):5.2f} µs CPU per chunk")
    print(f"answer with amounts:   {cpu_per_chunk(ANSWER):5.2f} µs CPU per chunk")
    print(f"answer with a card:    {cpu_per_chunk(WITH_CARD):5.2f} µs CPU per chunk")
    for size in (10, 40):
        history = [ANSWER, PLAIN] * (size // 2)
        chars = sum(map(len, history))
        print(f"history, {size} messages ({chars} characters): {cpu_per_history(history):6.0f} µs CPU")


if __name__ == "__main__":
    main()
