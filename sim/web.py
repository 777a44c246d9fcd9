"""What the two web servers share, the game's (sim.game) and the dashboard's (sim.dashboard): HTML tables and their
style for their pages, and the check that an address can be listened on. No Solara here, and nothing else of sim:
it sits below both in tests/test_layers.py, so neither has to import the other for these."""

import html
import socket

TABLE_CSS = """
.wargame-table { border-collapse: collapse; font-size: 12.5px; width: 100%; }
.wargame-table th, .wargame-table td { border-bottom: 1px solid #ddd; padding: 2px 6px; text-align: left; vertical-align: top; }
.wargame-table th { background: #f3f3f3; position: sticky; top: 0; }
.wargame-scroll { max-height: 360px; overflow-y: auto; border: 1px solid #ddd; }
.wargame-chip { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: bold; border: 1px solid #888; }
.v-alert { overflow-wrap: anywhere; }
"""


def html_table(frame):
    """A DataFrame as an escaped HTML table (class wargame-table)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f"<table class='wargame-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class ServerError(Exception):
    """The server cannot start (the address is taken or cannot be used)."""


def check_address(host, port):
    """Raise ServerError unless `host`:`port` can be bound now."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise ServerError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another --port") from None
