"""The environment's proxy settings for a client that is given a transport.

httpx reads HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY only when it
builds a client's transport itself; `JarviceClient` is given one (to meter
it, `jarvice_tools.metrics.MeteredTransport`), so that transport routes by
the same variables: a request goes through the proxy named for its scheme
(or ALL_PROXY) unless NO_PROXY names its host. Certificates need nothing
here: httpx's transports read SSL_CERT_FILE and SSL_CERT_DIR themselves.
"""

from __future__ import annotations

import urllib.request

import httpx

__all__ = ["EnvironmentProxies"]

SCHEMES = ("http", "https")


class EnvironmentProxies(httpx.AsyncBaseTransport):
    """Directly, or through the proxy the environment names for the URL."""

    def __init__(self) -> None:
        proxies = urllib.request.getproxies()
        self._direct = httpx.AsyncHTTPTransport()
        self._via: dict[str, httpx.AsyncHTTPTransport] = {}
        for scheme in SCHEMES:
            url = proxies.get(scheme) or proxies.get("all")
            if url:
                self._via[scheme] = httpx.AsyncHTTPTransport(proxy=url)

    def transport_for(self, url: httpx.URL) -> httpx.AsyncHTTPTransport:
        via = self._via.get(url.scheme)
        if via is None or urllib.request.proxy_bypass(url.host):
            return self._direct
        return via

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.transport_for(request.url).handle_async_request(request)

    async def aclose(self) -> None:
        for transport in (self._direct, *self._via.values()):
            await transport.aclose()
