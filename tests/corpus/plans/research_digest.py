"""Prepare a research digest on a topic from several web searches.

Run each query once (in order), deduplicate the results by URL (first occurrence wins),
keep the 5 best-scored results (ties: earlier occurrence first), format one numbered
line per result with a shortened snippet, and save the digest once as a note titled
"Digest: <topic>".

Params: {"topic": str, "queries": [str, ...]}
Events: none
Tools: search.web, notes.save
"""

from textwrap import shorten

TOP_N = 5


async def run(event, step):
    topic = event.payload["topic"]
    queries = list(event.payload.get("queries", []))

    unique = []
    seen = set()
    for i, query in enumerate(queries, start=1):
        results = await step.do(f"search {i}: {query}"[:256],
                                lambda query=query: tools.search.web(query))
        for result in results:
            url = result["url"]
            if url in seen:
                continue
            seen.add(url)
            unique.append(result)

    # sorted is stable, so equal scores keep their first-occurrence order.
    top = sorted(unique, key=lambda r: -r["score"])[:TOP_N]

    lines = []
    for n, r in enumerate(top, start=1):
        short = shorten(r["snippet"], width=50, placeholder="...")
        lines.append(f"{n}. {r['title']} - {short} ({r['url']})")
    text = "\n".join(lines)

    await step.do("save digest", lambda: tools.notes.save(f"Digest: {topic}", text))

    return {"topic": topic, "unique_results": len(unique),
            "urls": [r["url"] for r in top]}
