"""Research a question: search, summarize the new sources, repeat until enough notes.

Every round asks the search tool for the next page of results, skips sources already
read, and summarizes the rest. Stops as soon as there are `min_notes` notes, or after
`max_rounds` rounds however many there are, then drafts a short answer from the notes.

Params: {"question": str, "min_notes": int (default 5), "max_rounds": int (default 4)}
Tools: search, summarize
"""

MAX_ROUNDS_CAP = 8


async def run(event, step):
    question = event.payload["question"]
    min_notes = event.payload.get("min_notes", 5)
    max_rounds = min(event.payload.get("max_rounds", 4), MAX_ROUNDS_CAP)

    notes = []
    sources = []
    rounds = 0
    for page in range(1, max_rounds + 1):
        rounds = page
        results = await step.do(f"search round {page}", lambda: tools.search(question, page))
        fresh = [r for r in results if r["url"] not in sources]
        if not fresh:
            print(f"round {page}: no new sources, stopping early")
            break

        async def summarize_fresh():
            summaries = []
            for result in fresh:
                summary = await tools.summarize(result["snippet"])
                summaries.append({"url": result["url"], "note": summary})
            return summaries

        notes.extend(await step.do(f"summarize round {page}", summarize_fresh))
        sources.extend([r["url"] for r in fresh])
        print(f"round {page}: {len(fresh)} new sources, {len(notes)} notes so far")
        if len(notes) >= min_notes:
            break

    all_notes = " ".join([n["note"] for n in notes])
    answer = await step.do("draft answer", lambda: tools.summarize(all_notes, 30))
    return {"question": question, "rounds": rounds, "enough": len(notes) >= min_notes,
            "notes": [n["note"] for n in notes], "sources": sources, "answer": answer}
