"""Flist lookup: the catalogue of the grid file, localgrid's own hub, or a 404 like hub.grid.tf.

localgrid has no internet, so an flist is "downloadable" when the grid file's catalogue lists it
or when localgrid's hub (``/hub/...``) serves it; anything else fails the way 0-OS reports a
missing flist on the hub.
"""

import httpx

from localgrid.node.provision.base import ProvisionError


def catalogue_entry(ctx, url):
    for entry in ctx.flist_catalogue or ():
        entry_url = entry if isinstance(entry, str) else entry.get("url")
        if entry_url == url:
            return {"url": url} if isinstance(entry, str) else entry
    return None


def fetch(ctx, url):
    """The catalogue entry (dict with ``url`` and optionally ``entrypoint``) of a reachable flist."""
    entry = catalogue_entry(ctx, url)
    if entry is not None:
        return entry
    if ctx.hub_base_url and url.startswith(ctx.hub_base_url) and ctx.http is not None:
        try:
            response = ctx.http.get(url)
        except httpx.HTTPError as error:
            raise ProvisionError('fail to download flist: Get "%s": %s' % (url, error)) from None
        if response.status_code != 200:
            raise ProvisionError("fail to download flist: %d %s" % (response.status_code, response.reason_phrase))
        return {"url": url}
    raise ProvisionError("fail to download flist: 404 Not Found")
