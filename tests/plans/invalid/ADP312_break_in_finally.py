# expect: ADP312 line 13
"""Poll a job until it is done, stopping at the first error."""


async def run(event, step):
    status = "pending"
    for attempt in range(10):
        try:
            status = await step.do(f"poll {attempt}", lambda: tools.jobs.status(event.payload["job"]))
            await step.sleep(f"pause {attempt}", "1 minute")
        finally:
            if status == "done":
                break
    return {"status": status}
