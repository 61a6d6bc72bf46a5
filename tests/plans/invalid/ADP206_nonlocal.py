# expect: ADP206 line 9
"""Count retries in a nested helper."""


async def run(event, step):
    count = 0

    def bump():
        nonlocal _count
        return 1

    count += bump()
    return {"count": count}
