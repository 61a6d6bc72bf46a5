# expect: ADP203 line 6
"""Load a module dynamically."""


async def run(event, step):
    system = __import__("os")
    return {"cwd": system.getcwd()}
