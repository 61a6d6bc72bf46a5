"""Simple: transcode (flaky, default retries), publish once, format a duration."""

from __future__ import annotations

from typing import Any

from tests.corpus.tasks._kit import Recorder

TASK = """\
Publish a podcast episode.

1. Load the episode with `episodes.get(episode_id)` -> {"title": str, "audio_url": str,
   "show": str}.
2. Transcode the audio with `audio.transcode(audio_url)` -> {"mp3_url": str,
   "duration_seconds": int}. The transcoder often fails with a transient error the
   first times; retrying (the default policy is fine) helps.
3. Publish it to the show's feed once with `feed.publish(show, episode_id, title,
   mp3_url, duration, idempotency_key)` -> {"item_id": str}, where duration is
   "HH:MM:SS" (3725 seconds is "01:02:05").
4. Announce it once with `social.post(text, idempotency_key)`; the text must contain
   the episode title.

Params (`event.payload`): {"episode_id": "ep-42"}.
No events arrive.

Return: {"episode_id": str, "item_id": str, "mp3_url": str, "duration": "HH:MM:SS"}.
"""

PARAMS = {"episode_id": "ep-42"}
SCENARIO: list[tuple[Any, ...]] = [("advance", "5 minutes")]


def make_tools() -> tuple[dict[str, Any], dict[str, Any]]:
    rec = Recorder(published=[], posts=[])

    def episodes_get(episode_id: str) -> dict:
        """An episode: {"title": str, "audio_url": str, "show": str}."""
        rec.call("episodes.get", episode_id)
        return {"title": "Durable Things", "audio_url": "s3://raw/ep-42.wav",
                "show": "eng-talks"}

    def audio_transcode(audio_url: str) -> dict:
        """Transcode audio to MP3. Returns {"mp3_url": str, "duration_seconds": int}.

        Raises ConnectionError when the transcoder is busy (retrying helps).
        """
        if rec.call("audio.transcode", audio_url) <= 2:
            raise ConnectionError("transcoder busy")
        return {"mp3_url": "https://cdn.example/ep-42.mp3", "duration_seconds": 3725}

    def feed_publish(show: str, episode_id: str, title: str, mp3_url: str, duration: str,
                     idempotency_key: str = "") -> dict:
        """Add an episode to a show's RSS feed. Returns {"item_id": str}."""
        rec.call("feed.publish", show, episode_id)
        rec.once("published", idempotency_key,
                 {"show": show, "episode_id": episode_id, "title": title,
                  "mp3_url": mp3_url, "duration": duration})
        return {"item_id": "item-8812"}

    def social_post(text: str, idempotency_key: str = "") -> dict:
        """Post to the show's social accounts. Returns {"post_id": str}."""
        rec.call("social.post")
        rec.once("posts", idempotency_key, text)
        return {"post_id": rec.next_id("post")}

    return {"episodes.get": episodes_get, "audio.transcode": audio_transcode,
            "feed.publish": feed_publish, "social.post": social_post}, rec.state


def check(output: Any, state: dict[str, Any]) -> None:
    assert output == {"episode_id": "ep-42", "item_id": "item-8812",
                      "mp3_url": "https://cdn.example/ep-42.mp3",
                      "duration": "01:02:05"}, output
    assert state["published"] == [{"show": "eng-talks", "episode_id": "ep-42",
                                   "title": "Durable Things",
                                   "mp3_url": "https://cdn.example/ep-42.mp3",
                                   "duration": "01:02:05"}], state["published"]
    assert len(state["posts"]) == 1 and "Durable Things" in state["posts"][0], state["posts"]
