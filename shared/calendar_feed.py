"""Calendar feeds (RFC 5545, through the `icalendar` library) as pure functions: sessions in, bytes out.

What goes in is already decided elsewhere: which halakat a user's feed holds (`shared.access.in_calendar`),
which sessions each has (`shared.sessions.halaka_sessions`, bounded by `feed_window`), and whether the
user may see the join link (`shared.access.meeting_visibility`). This module only renders, and answers
conditional requests (`ETag` / `Last-Modified`).

Rendering rules:
- one `VEVENT` per session; `UID` `halaka-{id}-{occurrenceId}@halaka-zoom` (stable: a moved session
  keeps its occurrence id, so calendars update the event rather than add one);
- `DTSTART`/`DTEND` in the halaka's timezone with `TZID`, and one `VTIMEZONE` per zone used, covering
  the window only (a full 1970-2038 history would be most of the feed);
- `SEQUENCE` the session's change counter; `STATUS:CANCELLED` for cancelled sessions, `CONFIRMED`
  otherwise; `DTSTAMP` and `LAST-MODIFIED` the session's last change (else the halaka's), never "now",
  so an unchanged feed is byte-identical and its `ETag` stable;
- `URL`, `LOCATION` and the description's join line only with `show_join` and not on a cancelled
  session; the passcode likewise (`meeting_visibility.join` covers both); never a start link, which
  this module is never given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration

from shared.sessions import SessionView

PRODID = "-//Halaka Zoom//Calendar feed 1.0//EN"
UID_DOMAIN = "halaka-zoom"
WINDOW_PAST = timedelta(days=30)
WINDOW_AHEAD = timedelta(days=366)
MAX_EVENTS = 1000  # per feed, over all its halakat
MAX_HALAKAT = 200  # per feed
REFRESH = timedelta(hours=1)  # what the feed suggests to clients (RFC 7986 REFRESH-INTERVAL)


@dataclass(frozen=True)
class JoinLink:
    url: str | None
    password: str | None


@dataclass(frozen=True)
class FeedHalaka:
    """One halaka of a feed, with what the reader may see of it."""

    id: int
    title: str
    description: str
    timezone: str
    revised_at: datetime  # the halaka's own last change: DTSTAMP of sessions that never changed
    sessions: Sequence[SessionView]
    show_join: bool = False
    links: dict[int, JoinLink] = field(default_factory=dict)  # meeting id -> join link


def feed_window(now: datetime) -> tuple[datetime, datetime]:
    """The sessions a feed holds: from 30 days back to a year ahead, from the start of today (UTC), so
    the feed's bytes change when its sessions do, not every second."""
    today = datetime.combine(now.astimezone(UTC).date(), datetime.min.time(), tzinfo=UTC)
    return today - WINDOW_PAST, today + WINDOW_AHEAD


def event_uid(halaka_id: int, occurrence_id: str) -> str:
    return f"halaka-{halaka_id}-{occurrence_id}@{UID_DOMAIN}"


def _description(halaka: FeedHalaka, session: SessionView, link: JoinLink | None) -> str:
    lines = [halaka.description.strip()] if halaka.description.strip() else []
    if session.status == "cancelled":
        lines.append("Cancelled" + (f": {session.cancel_reason}" if session.cancel_reason else "."))
    if link is not None and link.url:
        lines.append(f"Join: {link.url}")
        if link.password:
            lines.append(f"Passcode: {link.password}")
    return "\n".join(lines)


def _event(halaka: FeedHalaka, session: SessionView, zone: ZoneInfo) -> Event:
    joinable = halaka.show_join and session.meeting_id is not None and session.status != "cancelled"
    link = halaka.links.get(session.meeting_id) if joinable and session.meeting_id is not None else None
    start = session.start_utc.astimezone(zone)
    stamp = (session.changed_at or halaka.revised_at).astimezone(UTC)
    event = Event()
    event.add("uid", event_uid(halaka.id, session.occurrence_id))
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=session.duration))
    event.add("sequence", session.sequence)
    event.add("status", "CANCELLED" if session.status == "cancelled" else "CONFIRMED")
    event.add("summary", halaka.title)
    description = _description(halaka, session, link)
    if description:
        event.add("description", description)
    if link is not None and link.url:
        event.add("url", link.url)
        event.add("location", link.url)
    return event


def render(name: str, halakat: Iterable[FeedHalaka], window: tuple[datetime, datetime]) -> bytes:
    """The feed: `VTIMEZONE`s for the zones used (over `window`), then the events in start order."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))
    events: list[tuple[datetime, str, Event]] = []
    for halaka in halakat:
        zone = ZoneInfo(halaka.timezone)
        for session in halaka.sessions:
            events.append(
                (
                    session.start_utc,
                    event_uid(halaka.id, session.occurrence_id),
                    _event(halaka, session, zone),
                )
            )
    for _, _, event in sorted(events, key=lambda item: (item[0], item[1]))[:MAX_EVENTS]:
        calendar.add_component(event)
    first: date = (window[0] - timedelta(days=2)).date()
    last: date = (window[1] + timedelta(days=2)).date()
    calendar.add_missing_timezones(first_date=first, last_date=last)
    return calendar.to_ical()


def etag(body: bytes) -> str:
    """A strong validator of the feed's bytes."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _parse_http_date(value: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def not_modified(
    if_none_match: str | None, if_modified_since: str | None, current_etag: str, last_modified: datetime
) -> bool:
    """RFC 9110 13.1: `If-None-Match` decides when present (weak comparison, `*` matches); otherwise
    `If-Modified-Since` (a date not later than `last_modified`, to the second). Unparsable dates never
    match, so the client gets the body."""
    if if_none_match is not None:
        tags = [tag.strip() for tag in if_none_match.split(",")]
        return any(tag == "*" or tag.removeprefix("W/") == current_etag for tag in tags)
    if if_modified_since is None:
        return False
    since = _parse_http_date(if_modified_since)
    return since is not None and last_modified.astimezone(UTC).replace(microsecond=0) <= since
