//! Reading OAuth requests: the form body (each parameter at most once) and the
//! client's credentials, from `client_secret_basic` (RFC 6749 §2.3.1: id and
//! secret form-urlencoded, then joined by `:` and base64-encoded) or
//! `client_secret_post`, never both. A body declared as anything but
//! `application/x-www-form-urlencoded` (JSON, most often) is refused with a
//! description that says which format to send; a body without `Content-Type` is
//! read as a form.

use std::collections::HashMap;

use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::error::OAuthError;
use crate::domain::secret_value::SecretValue;

/// The form media type RFC 6749 (§3.2, §4.4.2) and RFC 7662 (§2.1) require.
const FORM: &str = "application/x-www-form-urlencoded";

/// Refuses a body declared as another media type than a form, naming the one to use.
pub fn require_form(headers: &HeaderMap) -> Result<(), OAuthError> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let declared = String::from_utf8_lossy(value.as_bytes());
    let essence = declared.split(';').next().unwrap_or("").trim();
    let essence: String = essence.chars().take(100).collect();
    if essence.eq_ignore_ascii_case(FORM) {
        return Ok(());
    }
    let hint = if essence.to_ascii_lowercase().ends_with("json") {
        " (JSON is not accepted here)"
    } else {
        ""
    };
    Err(OAuthError::invalid_request(format!(
        "the body must be {FORM}, not {essence:?}{hint}: send the parameters as \
         name=value pairs joined by &, such as grant_type=client_credentials&scope=..."
    )))
}

/// A form body with every parameter given at most once.
pub struct Form(HashMap<String, String>);

impl Form {
    pub fn parse(body: &[u8]) -> Result<Self, OAuthError> {
        let mut params = HashMap::new();
        for (key, value) in form_urlencoded::parse(body) {
            if params
                .insert(key.clone().into_owned(), value.into_owned())
                .is_some()
            {
                return Err(OAuthError::invalid_request(format!(
                    "parameter {key:?} is given more than once"
                )));
            }
        }
        Ok(Self(params))
    }

    /// A parameter; an empty value counts as absent (RFC 6749 §3.1).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// The credentials a client presented.
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: SecretValue,
}

/// The credentials of the request; `Ok(None)` when it carries none.
pub fn client_credentials(
    headers: &HeaderMap,
    form: &Form,
) -> Result<Option<ClientCredentials>, OAuthError> {
    let basic = headers
        .get(AUTHORIZATION)
        .map(|v| {
            v.to_str()
                .map_err(|_| OAuthError::invalid_request("the Authorization header is not ASCII"))
        })
        .transpose()?
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, encoded)| decode_basic(encoded.trim()))
        .transpose()?;
    let posted = form.get("client_secret");
    match (basic, posted) {
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "use one client authentication method: client_secret_basic or client_secret_post, not both",
        )),
        (Some(basic), None) => {
            if form
                .get("client_id")
                .is_some_and(|id| id != basic.client_id)
            {
                return Err(OAuthError::invalid_request(
                    "client_id differs from the Authorization header",
                ));
            }
            Ok(Some(basic))
        }
        (None, Some(secret)) => {
            let client_id = form
                .get("client_id")
                .ok_or_else(|| OAuthError::invalid_request("client_secret_post needs client_id"))?;
            Ok(Some(ClientCredentials {
                client_id: client_id.to_owned(),
                secret: SecretValue::presented(secret),
            }))
        }
        (None, None) => Ok(None),
    }
}

fn decode_basic(encoded: &str) -> Result<ClientCredentials, OAuthError> {
    let malformed = || OAuthError::invalid_request("malformed Basic credentials");
    let decoded = zeroize::Zeroizing::new(STANDARD.decode(encoded).map_err(|_| malformed())?);
    let text = std::str::from_utf8(&decoded).map_err(|_| malformed())?;
    // No colon: an id with an empty secret, refused as invalid_client like any wrong secret.
    let (id, secret) = text.split_once(':').unwrap_or((text, ""));
    let secret = zeroize::Zeroizing::new(form_decode(secret).ok_or_else(malformed)?);
    Ok(ClientCredentials {
        client_id: form_decode(id).ok_or_else(malformed)?,
        secret: SecretValue::presented(&secret),
    })
}

/// `application/x-www-form-urlencoded` decoding of one value: `+` is a space.
fn form_decode(s: &str) -> Option<String> {
    let spaced = s.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .ok()
        .map(|c| c.into_owned())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn basic(id: &str, secret: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
        h.insert(AUTHORIZATION, HeaderValue::from_str(&v).unwrap());
        h
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let form = Form::parse(b"grant_type=client_credentials").unwrap();
        let c = client_credentials(&basic("svc%2Fa", "a%3Ab+c%25d%2B"), &form)
            .unwrap()
            .unwrap();
        assert_eq!(c.client_id, "svc/a");
        assert_eq!(c.secret.expose(), "a:b c%d+");
    }

    #[test]
    fn both_methods_at_once_are_refused() {
        let form = Form::parse(b"client_id=svc&client_secret=x").unwrap();
        assert!(client_credentials(&basic("svc", "x"), &form).is_err());
    }

    #[test]
    fn only_a_form_body_is_read() {
        let mut h = HeaderMap::new();
        assert!(require_form(&h).is_ok(), "no Content-Type: read as a form");
        for ok in [FORM, "Application/X-WWW-Form-Urlencoded; charset=UTF-8"] {
            h.insert(CONTENT_TYPE, HeaderValue::from_str(ok).unwrap());
            assert!(require_form(&h).is_ok(), "{ok}");
        }
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let refused = format!("{:?}", require_form(&h).unwrap_err());
        assert!(
            refused.contains(FORM) && refused.contains("JSON"),
            "{refused}"
        );
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(require_form(&h).is_err());
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(Form::parse(b"scope=a&scope=b").is_err());
    }

    #[test]
    fn undecodable_basic_is_refused_and_a_missing_colon_means_an_empty_secret() {
        let form = Form::parse(b"").unwrap();
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(client_credentials(&h, &form).is_err());
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic bm9jb2xvbg=="),
        );
        let no_colon = client_credentials(&h, &form).unwrap().unwrap();
        assert_eq!(
            no_colon.client_id, "nocolon",
            "no colon: an id with an empty secret"
        );
        assert_eq!(no_colon.secret.expose(), "");
    }
}
