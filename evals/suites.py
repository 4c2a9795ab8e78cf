"""Conversation test suites: the YAML format, its schema, and loading with clear errors.

A suite file holds scripted conversations. Each conversation names who is calling and
lists the caller's turns; each turn says what must happen when Fintalk answers it::

    suite: cards
    defaults: {first_token_ms: 1500}
    conversations:
      - name: freeze a card, then confirm
        caller: {channel: vapi, phone: "+14155550101"}
        turns:
          - user: please freeze my card
            paraphrases: ["lock my visa", "can you block my card"]
            expect:
              tools: [{name: freeze_card, arguments: {card_last4: "4567"}}]
              action: pending
              says: ["Say yes to confirm"]
          - user: "yes"
            expect: {action: executed, says: ["is now frozen"]}

A turn's ``paraphrases`` are other ways to say the same thing: the conversation is run
once as written and once per paraphrase (variant *k* uses each turn's *k*-th paraphrase,
or the turn as written when it has fewer).

Errors name the file, the line and the place, e.g. ``cards.yaml, line 12
(conversations[0] "freeze a card".turns[1].expect.action): Input should be 'none',
'pending', 'executed', 'cancelled' or 'refused'``.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

Text = Annotated[str, StringConstraints(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolExpectation(_Strict):
    """A tool that must be called in the turn, with (some of) its arguments.

    ``arguments`` lists only the arguments that matter: each must be present with an equal
    value (compared as text, so ``4567`` matches ``"4567"``); others may be anything.
    """

    name: Text
    arguments: dict[str, object] = Field(default_factory=dict)


class TurnExpectation(_Strict):
    """What must be true once the turn has been answered. Every field is optional.

    - ``tools``: exactly these tools are called (names as a set; listed arguments must
      match); ``[]`` means no tool at all. Client tools (e.g. Vapi's ``transferCall``)
      count too.
    - ``action``: what the turn did to an action that moves money or changes a card —
      ``none`` (nothing created or decided), ``pending`` (one now waits for the caller's
      yes), ``executed`` (completed or scheduled), ``cancelled``, ``refused``.
    - ``says`` / ``says_any`` / ``not_says``: text in the answer (all of / one of / none
      of), compared case-insensitively with runs of whitespace as one space.
    - ``matches`` / ``not_matches``: regular expressions searched in the answer.
    - ``finish_reason``: ``stop``, ``length`` or ``tool_calls``.
    - ``first_token_ms``: the budget for the first token, in milliseconds.
    """

    tools: list[ToolExpectation] | None = None
    action: Literal["none", "pending", "executed", "cancelled", "refused"] | None = None
    says: list[Text] = Field(default_factory=list)
    says_any: list[Text] = Field(default_factory=list)
    not_says: list[Text] = Field(default_factory=list)
    matches: list[Text] = Field(default_factory=list)
    not_matches: list[Text] = Field(default_factory=list)
    finish_reason: Literal["stop", "length", "tool_calls"] | None = None
    first_token_ms: float | None = Field(default=None, gt=0)

    @field_validator("tools", mode="before")
    @classmethod
    def _names_alone(cls, value: object) -> object:
        # A bare name is shorthand for a tool whose arguments do not matter.
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("matches", "not_matches")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        import re

        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ValueError(f"{pattern!r} is not a regular expression: {error}") from None
        return patterns


class Turn(_Strict):
    user: Text
    paraphrases: list[Text] = Field(default_factory=list)
    expect: TurnExpectation = Field(default_factory=TurnExpectation)


class Caller(_Strict):
    """Who is calling and how.

    - ``vapi``: a phone call through Vapi; ``phone`` rides in ``call.customer.number`` and
      is vouched for by the trusted key the evaluation uses. Without ``phone``, an unknown
      number.
    - ``web``: the bank's web chat; the conversation is named by ``X-Conversation-Id`` and
      nobody is vouched for (a number the user types is only a claim).
    - ``anonymous``: a chat that names no conversation at all.
    """

    channel: Literal["vapi", "web", "anonymous"] = "web"
    phone: Text | None = None


class HistoryMessage(_Strict):
    """A message already in the conversation before its first scripted turn, e.g. a forged
    assistant reply or a client's system message (injection cases)."""

    role: Literal["system", "user", "assistant"]
    content: str


class Conversation(_Strict):
    name: Text
    caller: Caller = Field(default_factory=Caller)
    history: list[HistoryMessage] = Field(default_factory=list)
    client_tools: list[Text] = Field(
        default_factory=list,
        description="Tools the client offers (OpenAI `tools`), e.g. Vapi's transferCall.",
    )
    turns: list[Turn] = Field(min_length=1)


class Defaults(_Strict):
    first_token_ms: float | None = Field(default=None, gt=0)


class Suite(_Strict):
    suite: Text
    description: str = ""
    defaults: Defaults = Field(default_factory=Defaults)
    conversations: list[Conversation] = Field(min_length=1)

    @field_validator("conversations")
    @classmethod
    def _unique_names(cls, conversations: list[Conversation]) -> list[Conversation]:
        seen: set[str] = set()
        for conversation in conversations:
            if conversation.name in seen:
                raise ValueError(f"two conversations are called {conversation.name!r}")
            seen.add(conversation.name)
        return conversations


class SuiteError(ValueError):
    """A suite file that cannot be read or does not follow the format."""


@dataclass(frozen=True)
class ScriptedTurn:
    """One turn of one run: the words said and what must happen."""

    number: int  # 1-based
    user: str
    expect: TurnExpectation


@dataclass(frozen=True)
class ScriptedConversation:
    """One run of a conversation: as written (variant 0) or with paraphrases (1, 2, ...)."""

    suite: str
    name: str
    variant: int
    caller: Caller
    client_tools: tuple[str, ...]
    turns: tuple[ScriptedTurn, ...]
    history: tuple[HistoryMessage, ...] = ()

    @property
    def title(self) -> str:
        return self.name if self.variant == 0 else f"{self.name} (paraphrase {self.variant})"


def suite_load(path: Path) -> Suite:
    """Read and validate one suite file; raises ``SuiteError`` naming the file and place."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SuiteError(f"{path}: cannot read the suite file ({error.strerror}).") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise SuiteError(f"{path}{where}: not valid YAML: {problem}.") from None
    try:
        return Suite.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first["loc"])
        line = _line_of(text, location)
        where = f", line {line}" if line else ""
        more = len(error.errors()) - 1
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise SuiteError(
            f"{path}{where} ({_place(data, location) or 'the top level'}): {first['msg']}{tail}."
        ) from None


def conversations_expand(suite: Suite) -> list[ScriptedConversation]:
    """Every run of the suite's conversations: as written, then one per paraphrase."""
    runs = []
    for conversation in suite.conversations:
        variants = max(len(turn.paraphrases) for turn in conversation.turns)
        for variant in range(variants + 1):
            turns = tuple(
                ScriptedTurn(
                    number=number,
                    user=_words(turn, variant),
                    expect=_with_defaults(turn.expect, suite.defaults),
                )
                for number, turn in enumerate(conversation.turns, start=1)
            )
            runs.append(
                ScriptedConversation(
                    suite=suite.suite,
                    name=conversation.name,
                    variant=variant,
                    caller=conversation.caller,
                    client_tools=tuple(conversation.client_tools),
                    turns=turns,
                    history=tuple(conversation.history),
                )
            )
    return runs


def _words(turn: Turn, variant: int) -> str:
    if 0 < variant <= len(turn.paraphrases):
        return turn.paraphrases[variant - 1]
    return turn.user


def _with_defaults(expect: TurnExpectation, defaults: Defaults) -> TurnExpectation:
    if expect.first_token_ms is None and defaults.first_token_ms is not None:
        return expect.model_copy(update={"first_token_ms": defaults.first_token_ms})
    return expect


def _place(data: object, location: tuple) -> str:
    """``conversations[2] "name".turns[0].expect`` for a pydantic error location."""
    parts: list[str] = []
    node = data
    for step in location:
        if isinstance(step, int):
            parts.append(f"[{step}]")
            node = node[step] if isinstance(node, list) and step < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name"), str):
                parts.append(f' "{node["name"]}"')
        else:
            parts.append(f".{step}" if parts else str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts)


def _line_of(text: str, location: tuple) -> int | None:
    """The 1-based line of the YAML node at ``location`` (or of its nearest parent)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for step in location:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(step, str):
            child = next((value for key, value in node.value if key.value == step), None)
            if child is None:  # an unknown key: point at the key itself
                child = next((key for key, _ in node.value if key.value == step), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            child = node.value[step]
        if child is None:
            break
        node, line = child, child.start_mark.line + 1
    return line
