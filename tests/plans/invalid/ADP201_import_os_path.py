# expect: ADP201 line 4
"""Build a report file name."""

import os.path


async def run(event, step):
    name = os.path.join("reports", event.payload["day"])
    return {"file": name}
