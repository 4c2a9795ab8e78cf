"""The bank's own documents (``bank/faq/*.md``), searched offline with LlamaIndex's BM25.

Each Markdown section is a node; a question gets the best section, cited by its document.
The index is built once per process, on first use, from files shipped with the code:
nothing is downloaded (bm25s and PyStemmer ship their stopwords and stemmer).
"""

import re
from functools import lru_cache
from pathlib import Path

import Stemmer
from django.conf import settings
from llama_index.core import Document
from llama_index.core.node_parser import MarkdownNodeParser
from llama_index.core.schema import NodeWithScore
from llama_index.retrievers.bm25 import BM25Retriever

from agents.caller import CallerContext
from agents.phrases import OFFER_HUMAN
from agents.tools.base import bank_tool

FAQ_DIR = Path(settings.BASE_DIR) / "bank" / "faq"
# Below this BM25 score the best section shares too little with the question to answer it.
MIN_SCORE = 1.0
_HEADING_LINE = "#"
# Words that say nothing about the topic. bm25s's own English list (33 words) keeps "what",
# "you" or "do", which then match whichever section happens to use them; and the retriever
# filters only the documents, so questions are filtered here with the same list.
STOPWORDS = frozenset(
    """a about all am an and any anything are as at be been but by can could did do does doing
    for from get got had has have how i i'd i'm if in into is it it's its just know like me
    much my no not of on or our please should so some such tell than that the their them
    then there these they this to us want was we what what's when where which who why will
    with would you your""".split()
)
_WORD = re.compile(r"[a-z0-9']+")


def _document(path: Path) -> Document:
    text = path.read_text(encoding="utf-8")
    title = next(line.lstrip("# ").strip() for line in text.splitlines() if line.startswith("# "))
    return Document(
        text=text,
        metadata={"title": title, "file": f"bank/faq/{path.name}"},
        excluded_embed_metadata_keys=["file"],
    )


@lru_cache(maxsize=1)
def faq_retriever() -> BM25Retriever:
    documents = [_document(path) for path in sorted(FAQ_DIR.glob("*.md"))]
    nodes = MarkdownNodeParser().get_nodes_from_documents(documents)
    # A document's title alone (no intro under it) is not an answer to anything.
    nodes = [node for node in nodes if "\n" in node.get_content().strip()]
    return BM25Retriever.from_defaults(
        nodes=nodes,
        stemmer=Stemmer.Stemmer("english"),
        language=sorted(STOPWORDS),
        similarity_top_k=3,
    )


def _section(found: NodeWithScore) -> tuple[str, str]:
    """The section's heading and its text, without Markdown."""
    lines = found.node.get_content().strip().splitlines()
    heading = lines[0].lstrip("# ").strip() if lines and lines[0].startswith(_HEADING_LINE) else ""
    body = " ".join(line.strip() for line in lines[1:] if line.strip())
    return heading, body


def faq_search(question: str) -> NodeWithScore | None:
    """The section that best answers ``question``, or None when none is close enough."""
    words = [word for word in _WORD.findall(question.lower()) if word not in STOPWORDS]
    found = faq_retriever().retrieve(" ".join(words)) if words else []
    best = found[0] if found else None
    return best if best is not None and (best.score or 0) >= MIN_SCORE else None


@bank_tool
async def search_bank_faq(caller: CallerContext, question: str) -> str:
    """Answer a general question about the bank — fees, opening hours, branches and ATMs,
    how to do things (cards, payments, transfers, statements, loans) — from the bank's own
    documents, citing the document. Needs no verified caller and shows no customer data.

    Args:
        question: The caller's question, in their words.
    """
    best = faq_search(question)
    if best is None:
        return (
            "I couldn't find that in our guides. A colleague can help with it; I can "
            f"{OFFER_HUMAN}."
        )
    heading, body = _section(best)
    return f'According to our "{best.node.metadata["title"]}" guide ({heading}): {body}'
