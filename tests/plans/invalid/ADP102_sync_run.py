# expect: ADP102 line 5
"""Greet the user."""


def run(event, step):
    return {"greeting": f"hello {event.payload['name']}"}
