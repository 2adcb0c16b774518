"""The few web pages the app shows in a browser: "Add to Slack", and the end of an install.

Pure functions of their inputs; every value from outside (team names, Slack's error codes) is
HTML-escaped. The pages are small, self-contained and load nothing from elsewhere.
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

TITLE = "Hamsa for Slack"
INSTALL_HEADING = "See Hamsa calls in Slack"
INSTALL_LEAD = (
    "Add Hamsa to your Slack workspace to preview calls handled by your Hamsa voice agents: "
    "paste a conversation link, type /hamsa, or mention @Hamsa in a thread."
)
ADD_TO_SLACK = "Add to Slack"
INSTALLED_HEADING = "Hamsa is installed"
NEXT_STEPS = (
    "Open the app's Home tab in Slack and connect your Hamsa account: choose Connect Hamsa, "
    "paste an API key from the Hamsa dashboard and pick its region.",
    "Then paste a Hamsa conversation link in any channel, or type /hamsa with a conversation ID.",
    "Invite the app to the channels where you want @Hamsa and call logs in threads: /invite @Hamsa.",
)
OPEN_IN_SLACK = "Open Hamsa in Slack"
FAILED_HEADING = "Hamsa was not installed"
TRY_AGAIN = "Start again"
# Bolt's reasons for a failed callback, in words for the person who tried to install.
FAILURE_REASONS = {
    "access_denied": "The install was cancelled in Slack.",
    "invalid_browser": "This page was opened in another browser than the one that started the install.",
    "invalid_state": "This install link has expired or was already used.",
    "missing_code": "Slack did not send the install code back.",
    "invalid_code": "Slack did not accept the install code; it may have been used already.",
    "storage_error": "The installation could not be saved. Please try again in a minute.",
}
UNKNOWN_FAILURE = "Something went wrong while installing."

_STYLE = (
    "body{font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,sans-serif;max-width:36rem;"
    "margin:4rem auto;padding:0 1rem;color:#1d1c1d;line-height:1.5}"
    "a.button{display:inline-block;background:#4a154b;color:#fff;padding:.7rem 1.2rem;border-radius:6px;"
    "text-decoration:none;font-weight:600}ol li{margin:.4rem 0}.note{color:#616061}"
)


def _page(heading: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(TITLE)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(heading)}</h1>{body}</body></html>"
    )


def install_page(authorize_url: str) -> str:
    """The page at /slack/install: what the app does, and the button to Slack's consent page."""
    body = (
        f"<p>{escape(INSTALL_LEAD)}</p>"
        f'<p><a class="button" id="add-to-slack" href="{escape(authorize_url)}">{escape(ADD_TO_SLACK)}</a></p>'
        '<p class="note">You will be asked to allow the app in your workspace. Only people allowed to '
        "install apps there can finish.</p>"
    )
    return _page(INSTALL_HEADING, body)


def app_home_links(app_id: str | None, team_id: str | None) -> tuple[str, str] | None:
    """A deep link into Slack (the app's Home tab) and a web fallback, when the IDs are known."""
    if not app_id or not team_id:
        return None
    deep = "slack://app?" + urlencode({"team": team_id, "id": app_id, "tab": "home"})
    web = "https://slack.com/app_redirect?" + urlencode({"app": app_id, "team": team_id})
    return deep, web


def installed_page(team_name: str | None, app_id: str | None, team_id: str | None) -> str:
    """The end of a successful install: where it went and what to do next."""
    where = f" in {escape(team_name)}" if team_name else ""
    steps = "".join(f"<li>{escape(step)}</li>" for step in NEXT_STEPS)
    body = f"<p>The app is now installed{where}. Next:</p><ol>{steps}</ol>"
    links = app_home_links(app_id, team_id)
    if links:
        deep, web = links
        body += (
            f'<p><a class="button" id="open-in-slack" href="{escape(deep)}">{escape(OPEN_IN_SLACK)}</a></p>'
            f'<p class="note">Slack did not open? <a href="{escape(web)}">Open it in the browser</a>.</p>'
        )
    return _page(INSTALLED_HEADING, body)


def failed_page(reason: str, install_path: str) -> str:
    """The end of a failed install: why, in words, and a way to start again."""
    why = FAILURE_REASONS.get(reason, UNKNOWN_FAILURE)
    body = f'<p>{escape(why)}</p><p><a class="button" href="{escape(install_path)}">{escape(TRY_AGAIN)}</a></p>'
    return _page(FAILED_HEADING, body)
