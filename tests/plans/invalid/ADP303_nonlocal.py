# expect: ADP303 line 9
"""Count retries in a closure."""


async def run(event, step):
    attempts = 0

    def bump():
        nonlocal attempts
        attempts = attempts + 1

    bump()
    return {"attempts": attempts}
