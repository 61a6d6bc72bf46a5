# expect: ADP207 line 6
"""Find every subclass of object."""


async def run(event, step):
    found = ().__class__
    return {"found": str(found)}
