"""The fake Zendesk's incremental exports: the cursor-based ticket export with its sideloads
and the time-based ticket event export, each leaving out the last minute and allowing
``export_rate_per_minute`` requests a minute per token, as Zendesk's do.
"""

from __future__ import annotations

import base64
import bisect
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx

from oncall_tui.demo.fakes import Call, FakePart, json_response
from oncall_tui.demo.fakes.zendesk_shared import ZendeskHost, error_response, parse_iso


class ExportRoutes(FakePart[ZendeskHost]):
    """Part of :class:`~oncall_tui.demo.fakes.zendesk.ZendeskFake` (its ``exports``)."""

    def over_budget(self, call: Call, export: str) -> httpx.Response | None:
        """429 when this token asked this export too often in the last minute."""
        if self.fake.export_rate_per_minute is None:
            return None
        now_ts = self.fake.clock().timestamp()
        key = (call.token or "", export)
        recent = [t for t in self.fake._export_calls.get(key, []) if now_ts - t < 60]
        if len(recent) >= self.fake.export_rate_per_minute:
            return self.fake.rate_limited(call, 60 - (now_ts - recent[0]))
        self.fake._export_calls[key] = [*recent, now_ts]
        return None

    def event_index(self) -> list[tuple[int, int, int, int]]:
        """Every comment as one ticket update, in time order (rebuilt after a change)."""
        if self.fake._events is None:
            self.fake._events = sorted(
                (int(parse_iso(c["created_at"]).timestamp()), int(c["audit_id"]), tid, i)
                for tid, thread in self.fake.comments.items()
                for i, c in enumerate(thread)
            )
        return self.fake._events

    def ticket_events(self, call: Call) -> httpx.Response:
        """The time-based incremental ticket event export: an audit per comment.

        The first comment of a ticket is its creation (``Create`` child events before it).
        Pages hold ``export_page_size`` events, stretched to the end of their last second;
        ``end_time`` is that second (the next page's ``start_time``, so its events repeat).
        """
        refused = self.fake.admin_only(call) or self.over_budget(call, "ticket_events")
        if refused is not None:
            return refused
        start = call.param("start_time")
        if start is None or not start.isdigit():
            return error_response(400, "InvalidPaginationParameter", "start_time is required")
        horizon = int((self.fake._now() - timedelta(seconds=self.fake.export_lag)).timestamp())
        since = int(start)
        if since > horizon:
            return error_response(
                422, "InvalidValue", "Too recent start_time. Use a start_time older than 1 minute."
            )
        index = self.event_index()
        first = bisect.bisect_left(index, (since,))
        stop = bisect.bisect_right(index, (horizon, math.inf))
        last = min(stop, first + self.fake.export_page_size)
        while last < stop and index[last][0] == index[last - 1][0]:
            last += 1  # the rest of the last second
        with_comments = "comment_events" in (call.param("include") or "")
        events = [self.ticket_event(*entry, with_comments) for entry in index[first:last]]
        end_time = index[last - 1][0] if last > first else since
        query = urlencode(
            {"start_time": end_time, **({"include": "comment_events"} if with_comments else {})}
        )
        return json_response(
            200,
            {
                "ticket_events": events,
                "count": len(events),
                "end_time": end_time,
                "next_page": f"{call.base}/api/v2/incremental/ticket_events.json?{query}",
                "end_of_stream": last >= stop,
            },
        )

    def ticket_event(
        self, ts: int, audit_id: int, tid: int, index: int, with_comment: bool
    ) -> dict[str, Any]:
        comment = self.fake.comments[tid][index]
        children: list[dict[str, Any]] = []
        if index == 0:
            ticket = self.fake.tickets.get(tid, {})
            children += [
                {
                    "id": audit_id * 10 + n,
                    "event_type": "Create",
                    "type": "Create",
                    key: ticket.get(key),
                }
                for n, key in enumerate(("subject", "status", "priority"), start=1)
            ]
        if with_comment:
            children.append({**comment, "event_type": "Comment"})
        return {
            "id": audit_id,
            "ticket_id": tid,
            "timestamp": ts,
            "created_at": comment["created_at"],
            "updater_id": comment["author_id"],
            "via": "Web service",
            "system": {},
            "event_type": "Audit",
            "merged_ticket_ids": [],
            "comment_present": True,
            "comment_public": comment["public"],
            "child_events": children,
        }

    def export(self, call: Call) -> httpx.Response:
        refused = self.fake.admin_only(call) or self.over_budget(call, "tickets")
        if refused is not None:
            return refused
        cursor = call.param("cursor")
        start = call.param("start_time")
        horizon = self.fake._now() - timedelta(seconds=self.fake.export_lag)
        if cursor:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(cursor.encode()))
                after_seq, since_ts = int(decoded["seq"]), int(decoded["since"])
            except (ValueError, KeyError, TypeError):
                return error_response(422, "InvalidCursor", "The cursor is not valid")
        elif start is not None and start.isdigit():
            after_seq, since_ts = 0, int(start)
            if datetime.fromtimestamp(since_ts, UTC) > horizon:
                return error_response(
                    422, "InvalidValue", "start_time must be at least a minute ago"
                )
        else:
            return error_response(
                400, "InvalidPaginationParameter", "start_time or cursor is required"
            )
        since = datetime.fromtimestamp(since_ts, UTC)
        pending = sorted(
            (seq, tid)
            for tid, seq in self.fake._changed.items()
            if seq > after_seq and parse_iso(self.fake.tickets[tid]["updated_at"]) >= since
        )
        page: list[dict[str, Any]] = []
        last_seq = after_seq
        end = True
        for seq, tid in pending:
            if parse_iso(self.fake.tickets[tid]["updated_at"]) > horizon:
                break  # the last minute is not exported yet
            if len(page) >= self.fake.export_page_size:
                end = False
                break
            page.append(dict(self.fake.tickets[tid]))
            last_seq = seq
        state = {"seq": last_seq, "since": since_ts}
        after = base64.urlsafe_b64encode(json.dumps(state).encode()).decode()
        body: dict[str, Any] = {
            "tickets": page,
            "after_cursor": after,
            "after_url": f"{call.base}/api/v2/incremental/tickets/cursor.json?cursor={after}",
            "before_cursor": None,
            "before_url": None,
            "end_of_stream": end,
        }
        body.update(self.sideloads(page, call.param("include") or ""))
        return json_response(200, body)

    def sideloads(self, tickets: list[dict[str, Any]], include: str) -> dict[str, Any]:
        wanted = {x.strip() for x in include.split(",") if x.strip()}
        extra: dict[str, Any] = {}
        if "users" in wanted:
            ids: set[int] = {
                int(t[key])
                for t in tickets
                for key in ("requester_id", "submitter_id", "assignee_id")
                if t.get(key) is not None
            }
            extra["users"] = [self.fake.users[i] for i in sorted(ids) if i in self.fake.users]
        if "organizations" in wanted:
            orgs = {int(t["organization_id"]) for t in tickets if t.get("organization_id")}
            extra["organizations"] = [
                self.fake.organizations[i] for i in sorted(orgs) if i in self.fake.organizations
            ]
        return extra


__all__ = ["ExportRoutes"]
