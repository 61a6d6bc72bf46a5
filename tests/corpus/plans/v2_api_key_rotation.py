"""Rotate the API key of one service.

Looks up the key in use, creates a new key, stores its secret in the vault at
"services/<service>/api-key", and only after the secret is stored revokes the old key
(exactly once). The secret never leaves the step that creates and stores it, so it is
neither journaled nor part of the output.

Params: {"service": str}
Events: none
Tools: keys.current, keys.create, vault.put, keys.revoke
"""


async def run(event, step):
    service = event.payload["service"]
    path = f"services/{service}/api-key"

    old = await step.do("look up current key", lambda: tools.keys.current(service))
    old_key_id = old["key_id"]

    async def create_and_store(ctx):
        # Create and store in one step so the secret is never saved as a step result.
        # Both tools get idempotency keys, so a retry returns the same key and the same
        # vault write instead of creating a second key.
        created = await tools.keys.create(service, ctx.idempotency_key)
        stored = await tools.vault.put(path, created["secret"],
                                       f"{ctx.idempotency_key}:vault")
        return {"key_id": created["key_id"], "version": stored["version"]}

    new = await step.do("create and store new key", create_and_store)

    # The new secret is stored: now the old key may go. No retries, so the revoke
    # call is made exactly once.
    await step.do(f"revoke old key {old_key_id}",
                  lambda: tools.keys.revoke(old_key_id),
                  retries={"limit": 0, "delay": "10 seconds", "backoff": "constant"})

    return {"service": service, "old_key_id": old_key_id,
            "new_key_id": new["key_id"], "vault_version": new["version"]}
