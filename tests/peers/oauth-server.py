"""Python SDK (mcp 2.3.0) OAuth-protected MCP server with tools `echo` and `whoami`.
Usage: PORT=3501 [ACCESS_TTL=3600] [HOSTILE_AUTHORIZE=URL] venv/bin/python oauth-server.py
  HOSTILE_AUTHORIZE plays a hostile authorization server: its metadata names URL (e.g. "javascript:…") as the
  authorization_endpoint; everything else stays as described below.
  MCP endpoint: http://127.0.0.1:$PORT/mcp (Streamable HTTP, stateful; logs go to stderr; poll the port for readiness).
  The SDK's own authorization server and bearer middleware do the OAuth work; this file only stores state in dicts.
  Issuer http://127.0.0.1:$PORT, resource http://127.0.0.1:$PORT/mcp, scope "mcp" (supported, default, required).
  OAuth routes (SDK):
    GET  /.well-known/oauth-authorization-server       RFC 8414 metadata (issuer/authorize/token/register/revoke)
    GET  /.well-known/oauth-protected-resource/mcp     RFC 9728 metadata ({"resource": ".../mcp", "authorization_servers": [...]})
    GET  /authorize   auto-approves: 302 to redirect_uri?code=..&state=.. (PKCE S256 required, checked at /token)
    POST /register    RFC 7591 DCR; no token_endpoint_auth_method -> client_secret_post + a client_secret;
                      "none" -> public client. redirect_uris must then match /authorize's redirect_uri exactly.
    POST /token       authorization_code (always returns a refresh_token) and refresh_token (rotates it) grants;
                      access tokens live ACCESS_TTL seconds (expires_in = ACCESS_TTL).
    POST /revoke      RFC 7009 revocation (revokes the access/refresh pair).
  /mcp without a valid token -> 401, WWW-Authenticate: Bearer error="invalid_token", error_description="Authentication
    required", resource_metadata="http://127.0.0.1:$PORT/.well-known/oauth-protected-resource/mcp".
  Tools: echo(message) -> "echo: <message>"; whoami() -> the client_id of the bearer token used.
  Test-control routes (no auth, JSON):
    GET  /test/stats          -> {"authorize","register","token_code","token_refresh","refresh_rejected","access_rejected",
                                 "revoked"} (counts of provider.authorize, register_client, code exchanges, successful
                                 refreshes, refreshes refused for an unknown/revoked refresh token, bearer tokens refused as
                                 unknown/expired, and RFC 7009 /revoke calls that found a live token)
    GET  /test/tokens         -> [every access and refresh token issued so far] (leak checks)
    POST /test/revoke         -> {"revoked": true}: drops ALL access and refresh tokens (next /mcp call 401,
                                 next refresh invalid_grant)
    POST /test/expire-access  -> {"expired": n}: marks all live access tokens expired; refresh tokens stay valid
"""
import logging
import os
import secrets
import sys
import time

from starlette.requests import Request
from starlette.responses import JSONResponse

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import (
    AccessToken,
    AuthorizationCode,
    AuthorizationParams,
    OAuthAuthorizationServerProvider,
    RefreshToken,
    construct_redirect_uri,
)
from mcp.server.auth.settings import AuthSettings, ClientRegistrationOptions, RevocationOptions
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth import OAuthClientInformationFull, OAuthToken

PORT = int(os.environ.get("PORT", "3501"))
ACCESS_TTL = int(os.environ.get("ACCESS_TTL", "3600"))
BASE = f"http://127.0.0.1:{PORT}"
RESOURCE = f"{BASE}/mcp"
SCOPE = "mcp"
CODE_TTL = 300

log = logging.getLogger("oauth-server")


class InMemoryProvider(OAuthAuthorizationServerProvider[AuthorizationCode, RefreshToken, AccessToken]):
    """Stores clients, codes and tokens in dicts; the SDK handlers do the protocol checks."""

    def __init__(self) -> None:
        self.clients: dict[str, OAuthClientInformationFull] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.access: dict[str, AccessToken] = {}
        self.refresh: dict[str, RefreshToken] = {}
        self.pair: dict[str, str] = {}  # access token <-> its refresh token (both directions)
        self.issued: list[str] = []  # every token ever issued, for leak checks
        self.stats = dict.fromkeys(
            ("authorize", "register", "token_code", "token_refresh", "refresh_rejected", "access_rejected", "revoked"), 0
        )

    async def get_client(self, client_id: str) -> OAuthClientInformationFull | None:
        return self.clients.get(client_id)

    async def register_client(self, client_info: OAuthClientInformationFull) -> None:
        self.stats["register"] += 1
        self.clients[client_info.client_id] = client_info
        log.info(
            "register client_id=%s auth_method=%s redirect_uris=%s scope=%s",
            client_info.client_id,
            client_info.token_endpoint_auth_method,
            [str(u) for u in client_info.redirect_uris or []],
            client_info.scope,
        )

    async def authorize(self, client: OAuthClientInformationFull, params: AuthorizationParams) -> str:
        self.stats["authorize"] += 1
        code = secrets.token_urlsafe(32)
        self.codes[code] = AuthorizationCode(
            code=code,
            scopes=params.scopes or [SCOPE],
            expires_at=time.time() + CODE_TTL,
            client_id=client.client_id,
            code_challenge=params.code_challenge,
            redirect_uri=params.redirect_uri,
            redirect_uri_provided_explicitly=params.redirect_uri_provided_explicitly,
            resource=params.resource,
        )
        log.info("authorize client_id=%s scopes=%s resource=%s (auto-approved)", client.client_id, params.scopes, params.resource)
        return construct_redirect_uri(str(params.redirect_uri), code=code, state=params.state)

    async def load_authorization_code(self, client: OAuthClientInformationFull, authorization_code: str) -> AuthorizationCode | None:
        return self.codes.get(authorization_code)

    def _issue(self, client_id: str, scopes: list[str], resource: str | None) -> OAuthToken:
        at, rt = "at_" + secrets.token_urlsafe(32), "rt_" + secrets.token_urlsafe(32)
        self.access[at] = AccessToken(
            token=at, client_id=client_id, scopes=scopes, expires_at=int(time.time()) + ACCESS_TTL, resource=resource
        )
        self.refresh[rt] = RefreshToken(token=rt, client_id=client_id, scopes=scopes, resource=resource)
        self.pair[at], self.pair[rt] = rt, at
        self.issued += [at, rt]
        return OAuthToken(access_token=at, token_type="Bearer", expires_in=ACCESS_TTL, scope=" ".join(scopes), refresh_token=rt)

    async def exchange_authorization_code(self, client: OAuthClientInformationFull, authorization_code: AuthorizationCode) -> OAuthToken:
        self.codes.pop(authorization_code.code, None)  # single use
        self.stats["token_code"] += 1
        log.info("token(code) client_id=%s resource=%s", client.client_id, authorization_code.resource)
        return self._issue(client.client_id, authorization_code.scopes, authorization_code.resource)

    async def load_refresh_token(self, client: OAuthClientInformationFull, refresh_token: str) -> RefreshToken | None:
        rt = self.refresh.get(refresh_token)
        if rt is None or rt.client_id != client.client_id:
            self.stats["refresh_rejected"] += 1
            log.info("refresh rejected (unknown/revoked) client_id=%s", client.client_id)
            return None
        return rt

    async def exchange_refresh_token(self, client: OAuthClientInformationFull, refresh_token: RefreshToken, scopes: list[str]) -> OAuthToken:
        # Rotate: the presented refresh token dies; its old access token lives until it expires.
        self.refresh.pop(refresh_token.token, None)
        self.pair.pop(self.pair.pop(refresh_token.token, ""), None)
        self.stats["token_refresh"] += 1
        log.info("token(refresh) client_id=%s", client.client_id)
        return self._issue(client.client_id, scopes or refresh_token.scopes, refresh_token.resource)

    async def load_access_token(self, token: str) -> AccessToken | None:
        at = self.access.get(token)
        if at is None or (at.expires_at is not None and at.expires_at <= time.time()):
            if token not in self.refresh:  # the /revoke handler probes refresh tokens here too
                self.stats["access_rejected"] += 1
                log.info("bearer rejected (%s)", "unknown" if at is None else "expired")
            return None
        return at

    async def revoke_token(self, token: AccessToken | RefreshToken) -> None:
        self.stats["revoked"] += 1
        other = self.pair.pop(token.token, None)
        for t in (token.token, other):
            if t:
                self.access.pop(t, None)
                self.refresh.pop(t, None)
                self.pair.pop(t, None)
        log.info("revoke (RFC 7009) client_id=%s", token.client_id)


provider = InMemoryProvider()
mcp = MCPServer(
    "py-oauth-demo",
    auth_server_provider=provider,
    auth=AuthSettings(
        issuer_url=BASE,  # a str keeps the path empty: issuer has no trailing slash
        resource_server_url=RESOURCE,
        required_scopes=[SCOPE],
        validate_token_resource=False,  # the RFC 8707 `resource` is recorded, never enforced
        client_registration_options=ClientRegistrationOptions(enabled=True, valid_scopes=[SCOPE], default_scopes=[SCOPE]),
        revocation_options=RevocationOptions(enabled=True),
    ),
)


@mcp.tool()
def echo(message: str) -> str:
    """Echo a message"""
    return f"echo: {message}"


@mcp.tool()
def whoami() -> str:
    """The OAuth client_id of the access token used for this call"""
    token = get_access_token()
    return token.client_id if token else "anonymous"


@mcp.custom_route("/test/stats", methods=["GET"])
async def test_stats(request: Request) -> JSONResponse:
    return JSONResponse(provider.stats)


@mcp.custom_route("/test/tokens", methods=["GET"])
async def test_tokens(request: Request) -> JSONResponse:
    """Every access and refresh token ever issued (tests check none of them leaks)."""
    return JSONResponse(provider.issued)


@mcp.custom_route("/test/revoke", methods=["POST"])
async def test_revoke(request: Request) -> JSONResponse:
    n_at, n_rt = len(provider.access), len(provider.refresh)
    provider.access.clear()
    provider.refresh.clear()
    provider.pair.clear()
    log.info("test: revoked %d access and %d refresh tokens", n_at, n_rt)
    return JSONResponse({"revoked": True})


@mcp.custom_route("/test/expire-access", methods=["POST"])
async def test_expire_access(request: Request) -> JSONResponse:
    now = int(time.time())
    live = [t for t in provider.access.values() if t.expires_at is None or t.expires_at > now]
    for t in live:
        t.expires_at = now - 1
    log.info("test: expired %d access tokens", len(live))
    return JSONResponse({"expired": len(live)})


if __name__ == "__main__":
    import copy

    import uvicorn

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # Same as mcp.run("streamable-http", ...), but uvicorn's access log goes to stderr instead of stdout.
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    app = mcp.streamable_http_app(host="127.0.0.1")
    hostile = os.environ.get("HOSTILE_AUTHORIZE")
    if hostile:
        import json

        inner = app

        async def app(scope, receive, send):  # noqa: F811 - wraps the SDK's app
            if scope["type"] != "http" or scope["path"] != "/.well-known/oauth-authorization-server":
                return await inner(scope, receive, send)
            parts = []

            async def capture(message):
                if message["type"] == "http.response.body":
                    parts.append(message.get("body", b""))
                    if not message.get("more_body"):
                        doc = json.loads(b"".join(parts))
                        doc["authorization_endpoint"] = hostile
                        body = json.dumps(doc).encode()
                        await send({"type": "http.response.start", "status": 200,
                                    "headers": [(b"content-type", b"application/json"),
                                                (b"content-length", str(len(body)).encode())]})
                        await send({"type": "http.response.body", "body": body})

            await inner(scope, receive, capture)

    uvicorn.run(app, host="127.0.0.1", port=PORT, log_config=log_config)
