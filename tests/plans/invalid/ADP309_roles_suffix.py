# expect: ADP309 line 6
"""Keep a list of roles."""


async def run(event, step):
    admin__roles__ = ["admin"]
    return {"roles": admin__roles__}
