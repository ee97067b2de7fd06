//! Which URLs from remote OAuth metadata Loopgate uses, opens or shows (ARCHITECTURE.md rule
//! 10: anything a remote party hands us is untrusted).
//!
//! A server's protected-resource metadata names its authorization server, whose metadata names
//! the endpoints Loopgate sends the user and its tokens to. A hostile server can put any URL
//! there: `javascript:` (script in whatever opens it), `file:`, a custom scheme handled by some
//! local program, or plain `http` to a remote host (tokens in clear text). So every endpoint
//! must be `https`, or `http` on a loopback host (local and test authorization servers,
//! RFC 8252 §7.3), and the check is repeated wherever a URL is opened or handed to the UI.

use rmcp::transport::auth::AuthorizationMetadata;

use super::OAuthError;

/// True when `url` names this machine: `localhost`, `127.0.0.0/8` or `::1`.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Checks that `url` may be used as an OAuth endpoint, opened in a browser or shown as a link:
/// an absolute `https` URL with a host, or `http` to a loopback host.
///
/// `what` names the URL in the error (e.g. `"authorization_endpoint"`). Returns the parsed
/// URL. Errors (a sentence for the user): not a URL, another scheme, `http` to a remote host.
pub fn check(url: &str, what: &str) -> Result<url::Url, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("{what} is not a valid URL ({e})"))?;
    let shown = shown(url);
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(parsed),
        "http" if is_loopback(&parsed) => Ok(parsed),
        "http" => Err(format!(
            "{what} {shown} uses plain http to a remote host; Loopgate only sends you or your tokens to https endpoints (http only on this machine)"
        )),
        scheme => Err(format!(
            "{what} {shown} uses the scheme \"{scheme}:\"; Loopgate only opens https endpoints (http only on this machine) — the server's OAuth metadata may be hostile"
        )),
    }
}

/// At most 80 characters of `url`, with control characters escaped, for error texts.
fn shown(url: &str) -> String {
    let mut out: String = url.chars().take(80).flat_map(char::escape_debug).collect();
    if url.chars().count() > 80 {
        out.push('…');
    }
    format!("\"{out}\"")
}

/// Checks every endpoint of an authorization server's metadata Loopgate may use: the
/// authorization, token, registration and revocation endpoints.
///
/// Errors: [`OAuthError::Flow`] at step `discovery`, naming the refused endpoint.
pub fn check_metadata(metadata: &AuthorizationMetadata) -> Result<(), OAuthError> {
    let refuse = |message: String| OAuthError::Flow {
        step: "discovery",
        message,
    };
    check(&metadata.authorization_endpoint, "authorization_endpoint").map_err(refuse)?;
    check(&metadata.token_endpoint, "token_endpoint").map_err(refuse)?;
    if let Some(registration) = &metadata.registration_endpoint {
        check(registration, "registration_endpoint").map_err(refuse)?;
    }
    if let Some(revocation) = metadata.additional_fields.get("revocation_endpoint") {
        let revocation = revocation
            .as_str()
            .ok_or_else(|| refuse("revocation_endpoint is not a string".into()))?;
        check(revocation, "revocation_endpoint").map_err(refuse)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(check("https://auth.example.com/authorize", "e").is_ok());
        assert!(check("http://127.0.0.1:9/authorize", "e").is_ok());
        assert!(check("http://127.9.9.9/authorize", "e").is_ok());
        assert!(check("http://localhost:9/a", "e").is_ok());
        assert!(check("http://[::1]:9/a", "e").is_ok());
        for bad in [
            "javascript:alert(document.cookie)",
            "JavaScript:fetch('/api/servers')",
            "file:///etc/passwd",
            "vscode://evil/cmd",
            "data:text/html,<script>1</script>",
            "http://auth.example.com/authorize",
            "http://127.0.0.1.evil.example/a",
            "https://",
            "/relative",
            "",
        ] {
            assert!(check(bad, "authorization_endpoint").is_err(), "{bad}");
        }
        let e = check("javascript:alert(1)\n", "authorization_endpoint").unwrap_err();
        assert!(e.contains("\"javascript:\""), "{e}");
        assert!(!e.contains('\n'), "control characters are escaped: {e}");
    }

    #[test]
    fn every_metadata_endpoint_is_checked() {
        let good: AuthorizationMetadata = serde_json::from_value(serde_json::json!({
            "authorization_endpoint": "https://a.example/authorize",
            "token_endpoint": "https://a.example/token",
            "registration_endpoint": "https://a.example/register",
            "revocation_endpoint": "https://a.example/revoke",
        }))
        .unwrap();
        assert!(check_metadata(&good).is_ok());
        for (field, bad) in [
            ("authorization_endpoint", "javascript:alert(1)"),
            ("token_endpoint", "http://a.example/token"),
            ("registration_endpoint", "file:///x"),
            ("revocation_endpoint", "myapp://revoke"),
        ] {
            let mut v = serde_json::to_value(&good).unwrap();
            v[field] = serde_json::json!(bad);
            let m: AuthorizationMetadata = serde_json::from_value(v).unwrap();
            let e = check_metadata(&m).unwrap_err().to_string();
            assert!(e.contains(field), "{field}: {e}");
        }
    }
}
