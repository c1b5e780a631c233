"""A generated demo folder of Claude Code and Codex transcripts, with the tricky cases in it.

`make run` writes it to var/demo-logs (manage.py local_logs_demo) and the page offers it in
development, so a newcomer can see the whole flow offline. Everything here is invented: no real
transcript, prompt or path.
"""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, time, timedelta

CLAUDE_MODELS = ("claude-opus-4-6", "claude-sonnet-4-5-20250929", "claude-haiku-4-5")
CODEX_MODELS = ("gpt-5.2-codex", "gpt-5.1-codex-mini")


def _line(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _ts(day: date, seconds: float) -> str:
    moment = datetime.combine(day, time(), tzinfo=UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def claude_response(
    *, day: date, second: float, n: int, model: str, session: str, blocks: int = 3, **flags
) -> list[str]:
    """One API response as Claude Code writes it: one line per content block, output growing."""
    usage = {
        "input_tokens": 5 + n % 40,
        "cache_read_input_tokens": 20_000 + 137 * (n % 90),
        "cache_creation_input_tokens": 900 + n % 300,
        "cache_creation": {
            "ephemeral_5m_input_tokens": 0,
            "ephemeral_1h_input_tokens": 900 + n % 300,
        },
        "output_tokens": 0,
        "service_tier": "standard",
        "speed": flags.pop("speed", "standard"),
    }
    final_output = 40 + (n * 7) % 900
    lines = []
    for block in range(blocks):
        last = block == blocks - 1
        usage = {**usage, "output_tokens": final_output if last else 1 + block}
        stop = ("end_turn" if last else None) if not flags.get("never_final") else None
        lines.append(
            _line(
                {
                    "type": "assistant",
                    "sessionId": session,
                    "requestId": f"req_{session}_{n}",
                    "isSidechain": flags.get("sidechain", False),
                    "cwd": "/home/demo/project",
                    "version": "2.1.39",
                    "timestamp": _ts(day, second + block * 0.5),
                    "message": {
                        "id": f"msg_{session}_{n}",
                        "model": model,
                        "stop_reason": stop,
                        "usage": usage,
                        "content": [{"type": "text", "text": "Demo answer."}],
                    },
                }
            )
        )
    return lines


def claude_tool_result(*, day: date, second: float, session: str, size: int) -> str:
    """A long tool-result line without usage: the pre-filter skips it without parsing."""
    return _line(
        {
            "type": "user",
            "sessionId": session,
            "timestamp": _ts(day, second),
            "toolUseResult": {"stdout": "x" * size},
        }
    )


def _codex_event(ts: str, total: dict, last: dict) -> str:
    return _line(
        {
            "timestamp": ts,
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {"total_token_usage": total, "last_token_usage": last},
                "rate_limits": {"plan_type": "plus"},
            },
        }
    )


def _codex_rollout(thread: str, day: date, model: str, turns: int, rng, parent=None) -> list[str]:
    meta = {"id": thread, "timestamp": _ts(day, 3600), "cwd": "/home/demo/project"}
    if parent:
        meta["forked_from_id"] = parent[0]
    lines = [_line({"timestamp": _ts(day, 3600), "type": "session_meta", "payload": meta})]
    total = {"input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0}
    total["reasoning_output_tokens"] = 0
    if parent:
        # The replay of the parent's history, re-stamped within milliseconds of the fork.
        for i, snapshot in enumerate(parent[1]):
            lines.append(_codex_event(_ts(day, 3600 + 0.001 * (i + 1)), snapshot, snapshot))
        total = dict(parent[1][-1])
    lines.append(
        _line({"timestamp": _ts(day, 3601), "type": "turn_context", "payload": {"model": model}})
    )
    snapshots = []
    for turn in range(turns):
        last = {
            "input_tokens": rng.randint(8_000, 60_000),
            "output_tokens": rng.randint(200, 4_000),
        }
        last["cached_input_tokens"] = int(last["input_tokens"] * 0.8)
        last["reasoning_output_tokens"] = last["output_tokens"] // 3
        total = {k: total[k] + last[k] for k in total}
        lines.append(_codex_event(_ts(day, 3700 + 60 * turn), dict(total), last))
        snapshots.append(dict(total))
    return lines, snapshots


def demo_files(*, today: date, days: int = 20, seed: int = 7) -> dict[str, str]:
    """{relative path: file text} for a `.claude` and a `.codex` folder over the last `days`."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    files: dict[str, list[str]] = {}
    for back in range(days, -1, -1):  # back == 0 is today: the page does not send it
        day = today - timedelta(days=back)
        if back % 7 in (2, 3):
            continue  # a quiet weekend
        session = f"demo-{day:%Y%m%d}"
        lines: list[str] = []
        for n in range(rng.randint(6, 14)):
            model = CLAUDE_MODELS[n % 3]
            lines += claude_response(
                day=day, second=36_000 + 300 * n, n=n, model=model, session=session
            )
            lines.append(
                claude_tool_result(day=day, second=36_001 + 300 * n, session=session, size=20_000)
            )
        # A /btw side question replays the first response with a new request id.
        replay = claude_response(
            day=day, second=50_000, n=0, model=CLAUDE_MODELS[0], session=session, sidechain=True
        )
        lines += [r.replace(f"req_{session}_0", f"req_{session}_btw") for r in replay]
        files[f".claude/projects/-home-demo-project/{session}.jsonl"] = lines
        files[f".claude/projects/-home-demo-project/{session}/subagents/agent-a1.jsonl"] = (
            claude_response(
                day=day,
                second=40_000,
                n=99,
                model=CLAUDE_MODELS[2],
                session=session,
                sidechain=True,
                never_final=True,
            )
        )
        thread = _uuid(rng)
        parent_lines, snapshots = _codex_rollout(thread, day, CODEX_MODELS[back % 2], 4, rng)
        path = f".codex/sessions/{day:%Y/%m/%d}/rollout-{day}T01-00-00-{thread}.jsonl"
        files[path] = parent_lines
        if back % 5 == 0:
            child = _uuid(rng)
            child_lines, _ = _codex_rollout(
                child, day, CODEX_MODELS[0], 2, rng, parent=(thread, snapshots)
            )
            files[f".codex/sessions/{day:%Y/%m/%d}/rollout-{day}T02-00-00-{child}.jsonl"] = (
                child_lines
            )
            # Archived too: counted once.
            files[f".codex/archived_sessions/rollout-{day}T01-00-00-{thread}.jsonl"] = parent_lines
    files[".claude/history.jsonl"] = [_line({"display": "demo prompt", "timestamp": 0})]
    return {path: "".join(line + "\n" for line in lines) for path, lines in files.items()}


def _uuid(rng) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
