"""The wargame room: a browser dashboard (Solara, on Mesa's visualization layer) - see docs/dashboard.md.

`live` (one run stepped in the browser), `chair` (a human in a partner's chair, games saved as
scenario files), `ensemble` (background ensembles) and `figures` do not import Solara; only `app`
(the page) and `server` (the web server) do, and nothing outside this package imports them.
"""
