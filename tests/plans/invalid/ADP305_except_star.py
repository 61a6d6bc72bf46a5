# expect: ADP305 line 6
"""Gather quotes and handle groups of errors."""


async def run(event, step):
    try:
        quotes = await step.gather(step.do("a", lambda: tools.shipping.quote("a")),
                                   step.do("b", lambda: tools.shipping.quote("b")))
    except* StepFailed:
        quotes = []
    return {"quotes": quotes}
