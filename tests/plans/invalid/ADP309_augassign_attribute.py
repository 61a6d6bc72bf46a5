# expect: ADP309 line 8
"""Count the reminders sent."""


async def run(event, step):
    for day in range(3):
        await step.sleep(f"wait {day}", "1 day")
        event.reminders += 1
    return {"reminded": True}
