"""Annotate a document with simple word statistics and a short summary.

Fetches the document once, counts its words (whitespace tokens, lowercased, with
. , ! ? ; : stripped from both ends, empty tokens dropped), the distinct words and the
3 most frequent words (ties broken alphabetically), and saves a 60-character summary of
the original text on the document.

Params: {"doc_id": str}
Events: none
Tools: docs.fetch, docs.annotate
"""

from collections import Counter
from textwrap import shorten

STRIP_CHARS = ".,!?;:"
TOP_N = 3


async def run(event, step):
    doc_id = event.payload["doc_id"]

    doc = await step.do(f"fetch {doc_id}", lambda: tools.docs.fetch(doc_id))
    text = doc.get("text") or ""

    words = []
    for token in text.split():
        word = token.lower().strip(STRIP_CHARS)
        if word:
            words.append(word)

    counts = Counter(words)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    top = [[word, count] for word, count in ranked[:TOP_N]]

    summary = shorten(text, width=60, placeholder=" ...")

    # Attaching the same summary again is harmless, so a retry cannot do damage here.
    await step.do(f"annotate {doc_id}", lambda: tools.docs.annotate(doc_id, summary))

    return {"doc_id": doc_id, "title": doc.get("title"), "words": len(words),
            "distinct": len(counts), "top": top, "summary": summary}
