"""Record channel: appends each message to a JSONL file (demo and drills; no network)."""

from __future__ import annotations

import json
from pathlib import Path

from fangxun.core.clock import Clock
from fangxun.warnings.delivery.channels.base import ChannelResult, OutgoingMessage
from fangxun.warnings.delivery.channels.config import RecordConfig, Secrets


class RecordChannel:
    """Writes one JSON line per message; succeeds whenever the file can be written."""

    kind = "record"

    def __init__(self, name: str, path: str | Path, *, clock: Clock | None = None):
        self.name = name
        self.path = Path(path)
        self._clock = clock or Clock()

    async def send(self, message: OutgoingMessage) -> ChannelResult:
        """Append the message as one line."""
        line = json.dumps(
            {
                "at": self._clock.now().isoformat(),
                "channel": self.name,
                "recipient": message.recipient_name,
                "address": message.address,
                "title": message.title,
                "text": message.text,
                "ack_url": message.ack_url,
                "idempotency_key": message.idempotency_key,
                "payload": message.payload,
            },
            ensure_ascii=False,
            default=str,
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # One small append per message: no await in between, so lines never interleave.
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")
        except OSError as exc:
            return ChannelResult(ok=False, retry=True, detail=f"cannot write record file ({exc.strerror})")
        return ChannelResult(ok=True, retry=False, detail="recorded")


def build(name: str, config: RecordConfig, http: object, secrets: Secrets) -> RecordChannel:
    """The channel `config` describes (registered in config.KINDS); no network, no secret."""
    return RecordChannel(name, config.path)
