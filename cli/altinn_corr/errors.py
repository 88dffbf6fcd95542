"""Exit codes and the exceptions that carry them. Documented in docs/cli.md; keep them stable."""

from __future__ import annotations

from typing import Any

EXIT_OK = 0
EXIT_ERROR = 1  # anything unexpected (a bug, a file that cannot be read, ...)
EXIT_USAGE = 2  # bad options or arguments (click's own code for usage errors)
EXIT_API = 3  # the API refused the request (4xx other than 401/403): problem details printed
EXIT_AUTH = 4  # no token could be obtained, or the API answered 401/403
EXIT_UNAVAILABLE = 5  # network failure, timeout or 5xx: retry later (uploads resume)
EXIT_FAILED = 6  # --wait: a correspondence or attachment ended Failed
EXIT_TIMEOUT = 7  # --wait: the final status was not reached in time
EXIT_PARTIAL = 8  # bulk send: some batches were created, a later one failed (receipt written)
EXIT_INTERRUPTED = 130  # Ctrl-C


class CliError(Exception):
    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def details(self) -> list[str]:
        return []

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.message, "exitCode": self.exit_code}
        if self.hint:
            body["hint"] = self.hint
        return body


class UsageProblem(CliError):
    exit_code = EXIT_USAGE


class Interrupted(CliError):
    """Ctrl-C; the message says how to go on (an upload resumes when the command runs again)."""

    exit_code = EXIT_INTERRUPTED


class TokenError(CliError):
    exit_code = EXIT_AUTH


class NetworkError(CliError):
    exit_code = EXIT_UNAVAILABLE


class WaitFailed(CliError):
    exit_code = EXIT_FAILED


class WaitTimeout(CliError):
    exit_code = EXIT_TIMEOUT


class ApiError(CliError):
    """A non-success answer from the API; ``problem`` is its problem-details body, if any."""

    def __init__(
        self,
        status: int,
        reason: str,
        problem: dict[str, Any] | None,
        *,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        self.status = status
        self.reason = reason
        self.problem = problem or {}
        self.retry_after = retry_after
        if status in (401, 403):
            self.exit_code = EXIT_AUTH
        elif status >= 500 or status == 429:
            self.exit_code = EXIT_UNAVAILABLE
        else:
            self.exit_code = EXIT_API
        super().__init__(self.summary(), hint=hint)

    @property
    def error_code(self) -> int | None:
        code = self.problem.get("errorCode")
        return code if isinstance(code, int) else None

    def summary(self) -> str:
        title = self.problem.get("title") or self.reason or "error"
        text = f"HTTP {self.status} {title}"
        code = self.problem.get("code")
        if isinstance(code, str):
            text += f" [{code}]"
        detail = self.problem.get("detail")
        if isinstance(detail, str) and detail:
            text += f": {detail}"
        return text

    def details(self) -> list[str]:
        """Readable lines for the field errors and the trace id."""
        lines: list[str] = []
        for item in self.problem.get("validationErrors") or []:
            if isinstance(item, dict):
                for path in item.get("paths") or []:
                    lines.append(f"{path}: {item.get('title')}")
        if not lines and isinstance(self.problem.get("errors"), dict):
            for path, messages in self.problem["errors"].items():
                for message in messages if isinstance(messages, list) else [messages]:
                    lines.append(f"{path}: {message}")
        if self.problem.get("traceId"):
            lines.append(f"traceId: {self.problem['traceId']}")
        return lines

    def as_json(self) -> dict[str, Any]:
        body = super().as_json()
        body["status"] = self.status
        if self.problem:
            body["problem"] = self.problem
        return body
