# expect: ADP207 line 6
"""Inspect the running frame."""


async def run(event, step):
    frame = run.cr_frame
    return {"frame": str(frame)}
