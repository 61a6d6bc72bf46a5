# expect: ADP303 line 8
"""Count processed orders across helpers."""

PROCESSED = 0


def mark():
    global PROCESSED
    PROCESSED = PROCESSED + 1


async def run(event, step):
    mark()
    return {"processed": PROCESSED}
