"""Publish a podcast episode: transcode it, add it to the show's feed, announce it.

Loads the episode, transcodes its audio to MP3 (the transcoder is often busy at first,
so the step retries with the default policy), publishes it once to the show's RSS feed
with its duration as HH:MM:SS, and posts one announcement naming the episode title.

Params: {"episode_id": str}
Events: none
Tools: episodes.get, audio.transcode, feed.publish, social.post
"""


def hms(total_seconds):
    total = int(total_seconds)
    hours = total // 3600
    minutes = (total % 3600) // 60
    seconds = total % 60
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}"


async def run(event, step):
    episode_id = event.payload["episode_id"]

    episode = await step.do(f"load episode {episode_id}",
                            lambda: tools.episodes.get(episode_id))

    # Transient ConnectionErrors are retried with the default policy (5 retries, backoff).
    audio = await step.do(f"transcode {episode_id}",
                          lambda: tools.audio.transcode(episode["audio_url"]))

    duration = hms(audio["duration_seconds"])
    mp3_url = audio["mp3_url"]

    published = await step.do(f"publish {episode_id} to feed", lambda ctx: tools.feed.publish(
        episode["show"], episode_id, episode["title"], mp3_url, duration,
        ctx.idempotency_key))

    text = f"New episode of {episode['show']}: {episode['title']} ({duration}) {mp3_url}"
    await step.do(f"announce {episode_id}", lambda ctx: tools.social.post(
        text, ctx.idempotency_key))

    return {"episode_id": episode_id, "item_id": published["item_id"],
            "mp3_url": mp3_url, "duration": duration}
