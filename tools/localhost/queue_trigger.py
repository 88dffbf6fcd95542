"""Queue triggers: poll, decode, invoke, delete on success, retry, then poison.

Mirrors the Functions queue extension: messages are base64 unless host.json says
``messageEncoding: none``; a failed message becomes visible again after
``visibilityTimeout``; after ``maxDequeueCount`` attempts it moves to ``<queue>-poison``.
Concurrency as the extension bounds it: up to ``batchSize`` messages are fetched at once, and a
new batch only when no more than ``newBatchThreshold`` (default ``batchSize / 2``) are still
running, so at most ``batchSize + newBatchThreshold`` run per function.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from concurrent.futures import Executor
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.functions.queue import QueueMessage

from tools.localhost.app_settings import resolve, timespan_seconds
from tools.localhost.functions import FunctionDef, invoke
from tools.localhost.storage import queue_client

logger = logging.getLogger("serve.queue")


class QueueListener:
    def __init__(self, function: FunctionDef, host_config: dict[str, Any], executor: Executor) -> None:
        queues = host_config.get("extensions", {}).get("queues", {})
        self.function = function
        self.executor = executor
        self.queue_name = resolve(function.trigger["queueName"]).lower()
        self.connection = function.trigger.get("connection")
        self.batch_size = min(int(queues.get("batchSize", 16)), 32)
        self.new_batch_threshold = int(queues.get("newBatchThreshold", self.batch_size // 2))
        self.max_dequeue = int(queues.get("maxDequeueCount", 5))
        self.retry_visibility = int(timespan_seconds(queues.get("visibilityTimeout"), 0))
        self.max_poll = timespan_seconds(queues.get("maxPollingInterval"), 60)
        self.base64 = queues.get("messageEncoding", "base64").lower() == "base64"
        self.lease_seconds = 600
        self.client = queue_client(self.connection, self.queue_name)
        self.poison = queue_client(self.connection, f"{self.queue_name}-poison")

    async def run(self, stop: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        delay = 0.1
        created = False
        running: set[asyncio.Task] = set()
        while not stop.is_set():
            if len(running) > self.new_batch_threshold:
                await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                continue
            try:
                if not created:
                    await loop.run_in_executor(self.executor, self._create_queue)
                    created = True
                messages = await loop.run_in_executor(self.executor, self._receive)
            except Exception as exc:  # noqa: BLE001 - storage may be down; keep polling
                logger.warning("%s: cannot poll %s (%s)", self.function.name, self.queue_name, type(exc).__name__)
                messages = []
                delay = self.max_poll
            for message in messages:
                task = asyncio.create_task(self._process(message))
                running.add(task)
                task.add_done_callback(running.discard)
            if messages:
                delay = 0.1
                continue
            try:
                await asyncio.wait_for(stop.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
            delay = min(delay * 2, self.max_poll)
        for task in running:
            task.cancel()

    def _create_queue(self) -> None:
        try:
            self.client.create_queue()
        except ResourceExistsError:
            pass

    def _receive(self) -> list[Any]:
        pages = self.client.receive_messages(
            messages_per_page=self.batch_size, visibility_timeout=self.lease_seconds
        ).by_page()
        return list(next(pages, []))

    def _decode(self, content: Any) -> bytes:
        raw = content.encode("utf-8") if isinstance(content, str) else bytes(content or b"")
        if not self.base64:
            return raw
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("queue message is not valid base64") from exc

    async def _process(self, message: Any) -> None:
        loop = asyncio.get_running_loop()
        try:
            body = self._decode(message.content)
            argument = QueueMessage(
                id=message.id,
                body=body,
                dequeue_count=message.dequeue_count,
                expiration_time=message.expires_on,
                insertion_time=message.inserted_on,
                time_next_visible=message.next_visible_on,
                pop_receipt=message.pop_receipt,
            )
            await invoke(self.function, argument, self.executor)
        except Exception as exc:  # noqa: BLE001 - a failing function must not stop the listener
            logger.warning(
                "%s: message %s failed (attempt %s of %s): %s",
                self.function.name, message.id, message.dequeue_count, self.max_dequeue, type(exc).__name__,
            )
            await loop.run_in_executor(self.executor, self._after_failure, message)
            return
        try:
            await loop.run_in_executor(self.executor, self.client.delete_message, message)
        except Exception as exc:  # noqa: BLE001 - it will be delivered again; consumers are idempotent
            logger.warning("%s: could not delete message %s (%s)", self.function.name, message.id, type(exc).__name__)

    def _after_failure(self, message: Any) -> None:
        try:
            if (message.dequeue_count or 0) >= self.max_dequeue:
                try:
                    self.poison.create_queue()
                except ResourceExistsError:
                    pass
                self.poison.send_message(message.content, time_to_live=-1)
                self.client.delete_message(message)
                logger.error("%s: message %s moved to %s-poison", self.function.name, message.id, self.queue_name)
            else:
                self.client.update_message(message, visibility_timeout=self.retry_visibility)
        except Exception as exc:  # noqa: BLE001 - the lease expires and the message comes back anyway
            logger.warning("%s: could not reschedule message %s (%s)", self.function.name, message.id, type(exc).__name__)



