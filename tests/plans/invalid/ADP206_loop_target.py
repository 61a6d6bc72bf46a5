# expect: ADP206 line 6
"""Page every contact."""


async def run(event, step):
    for _contact in event.payload["contacts"]:
        print("paging someone")
    return {"paged": len(event.payload["contacts"])}
