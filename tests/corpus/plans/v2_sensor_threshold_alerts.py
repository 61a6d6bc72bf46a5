"""Watch a freezer sensor and page the facilities team if it stays too warm.

Reads the sensor right away and then every 10 minutes, at most 12 readings in all. As
soon as 3 consecutive readings are strictly above the threshold, the facilities team is
paged once (naming the sensor) and reading stops. Twelve readings without such a run
finish quietly.

Params: {"sensor_id": str, "threshold": float}
Events: none
Tools: sensors.read, alerts.page
"""

MAX_READINGS = 12
CONSECUTIVE = 3
INTERVAL = "10 minutes"
TEAM = "facilities"


async def run(event, step):
    sensor_id = event.payload["sensor_id"]
    threshold = float(event.payload["threshold"])

    readings = 0
    streak = []
    breach = []

    for n in range(1, MAX_READINGS + 1):
        if n > 1:
            await step.sleep(f"wait before reading {n}", INTERVAL)
        reading = await step.do(f"read {sensor_id} #{n}",
                                lambda: tools.sensors.read(sensor_id))
        readings = n
        celsius = float(reading["celsius"])
        if celsius > threshold:
            streak.append(celsius)
        else:
            streak = []
        if len(streak) >= CONSECUTIVE:
            breach = streak[-CONSECUTIVE:]
            break

    alerted = False
    if breach:
        values = ", ".join(f"{c:.1f}" for c in breach)
        message = (f"Freezer sensor {sensor_id} is too warm: {CONSECUTIVE} consecutive "
                   f"readings above {threshold:.1f} C ({values} C).")
        await step.do(f"page {TEAM} about {sensor_id}", lambda ctx: tools.alerts.page(
            TEAM, message, ctx.idempotency_key))
        alerted = True

    return {"sensor_id": sensor_id, "alerted": alerted, "readings": readings,
            "breach": breach}
