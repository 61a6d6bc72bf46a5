"""Post a maintenance notice to the office notice board.

The notice is the title in upper case, the body wrapped to 40 columns (one line per
wrapped line) and a closing "-- <author>" line, joined with newlines. It is posted once,
in a single step.

Params: {"title": str, "body": str, "author": str}
Events: none
Tools: board.post
"""

from textwrap import wrap

WIDTH = 40


async def run(event, step):
    title = str(event.payload.get("title", ""))
    body = str(event.payload.get("body", ""))
    author = str(event.payload.get("author", ""))

    lines = [title.upper()] + wrap(body, width=WIDTH) + ["-- " + author]
    text = "\n".join(lines)

    posted = await step.do("post notice", lambda: tools.board.post(text))

    return {"lines": len(lines), "post_id": posted["post_id"]}
