# expect: ADP414 warning line 7
"""Notify every channel once."""


async def run(event, step):
    sent = []
    for channel in {"email", "sms", "push"}:
        sent.append(await step.do(f"notify {channel}", lambda c=channel: c))
    return sent
