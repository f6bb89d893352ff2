"""Rendered HTML kept in the shared cache (Flask-Caching) for a few seconds.

Each worker keeps its own copies by default (``CACHE_TYPE = "SimpleCache"``); with
``RedisCache`` every worker and host shares them. Only HTML that is the same for every
user who may see it goes here: never a page with a CSRF token or someone's data.
"""

from markupsafe import Markup

from portal.extensions import cache


def cached_html(key, seconds, render, refresh=False):
    """``render()``'s HTML, from the cache when a copy made less than ``seconds`` ago is there.

    ``seconds`` of 0 turns the cache off; ``refresh`` renders anew and keeps the new copy.
    ``render`` may return a response instead of HTML (a redirect, say): it is passed on
    and not kept.
    """
    html = cache.get(key) if seconds and not refresh else None
    if html is None:
        html = render()
        if not isinstance(html, str):
            return html
        if seconds:
            cache.set(key, str(html), timeout=seconds)
    return Markup(html)  # noqa: S704 - output of render_template, escaped by Jinja
