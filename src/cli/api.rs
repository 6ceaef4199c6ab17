//! The management API as the command line sees it: one HTTP client with the
//! server's URL and the bearer token, each answer either JSON (with the list's
//! `Total-Count`) or a [`Failure`] whose kind follows the status and whose
//! message is the API's `Reason`, `Resolution` and `OperationId`.

use std::time::Duration;

use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use super::args::Connection;
use super::exit::{Failure, Kind};

/// One answer: the JSON body (`Null` when empty) and `Total-Count`, when sent.
pub struct Answer {
    pub body: Value,
    pub total: Option<u64>,
}

pub struct Api {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    /// The client for `connection`; a missing URL or token is bad input.
    pub fn new(connection: &Connection) -> Result<Self, Failure> {
        let base = connection
            .url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                Failure::bad_input(
                    "no server: set LATCHKEY_URL (or --url), e.g. http://127.0.0.1:8080",
                )
            })?;
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Failure::bad_input(format!(
                "LATCHKEY_URL must start with http:// or https:// (got {base:?})"
            )));
        }
        let token = connection
            .token
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Failure::new(
                    Kind::Refused,
                    "no token: set LATCHKEY_TOKEN to the bootstrap token or an access token",
                )
            })?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("latchkey-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Failure::other(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
        })
    }

    /// `METHOD /api/v1/<path>` with the token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}/api/v1/{path}", self.base))
            .bearer_auth(&self.token)
    }

    /// Sends `request`; a 2xx answer is returned, anything else is a failure.
    pub async fn send(&self, request: RequestBuilder) -> Result<Answer, Failure> {
        let res = request.send().await.map_err(|e| {
            Failure::other(format!(
                "cannot reach the server at {}: {}",
                self.base,
                without_url(&e)
            ))
        })?;
        let status = res.status();
        let total = res
            .headers()
            .get("Total-Count")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let text = res
            .text()
            .await
            .map_err(|e| Failure::other(format!("cannot read the answer: {}", without_url(&e))))?;
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        if status.is_success() {
            return Ok(Answer { body, total });
        }
        Err(api_failure(status.as_u16(), &body))
    }

    /// `GET /api/v1/<path>?<query>`.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Answer, Failure> {
        let mut target = path.to_owned();
        if !query.is_empty() {
            let mut encoded = form_urlencoded::Serializer::new(String::new());
            encoded.extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
            target = format!("{path}?{}", encoded.finish());
        }
        self.send(self.request(Method::GET, &target)).await
    }
}

/// The failure an error answer stands for, in the API's own words.
fn api_failure(status: u16, body: &Value) -> Failure {
    let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or("");
    let error = text("Error");
    let kind = Kind::of_status(status, error);
    let mut message = match text("Reason") {
        "" => format!("the server answered {status}"),
        reason => reason.to_owned(),
    };
    if let Some(field) = body.get("Field").and_then(Value::as_str)
        && !message.starts_with(field)
    {
        message = format!("{field}: {message}");
    }
    if !text("Resolution").is_empty() {
        message.push_str(&format!(" ({})", text("Resolution")));
    }
    if !text("OperationId").is_empty() {
        message.push_str(&format!(
            " [{status} {error}, OperationId {}]",
            text("OperationId")
        ));
    }
    Failure::new(kind, message)
}

/// A reqwest error without its URL (which may carry query text the operator typed).
fn without_url(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(&format!(" for url ({url})"), "");
    }
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        text.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_answer_keeps_the_reason_and_operation_id() {
        let body = serde_json::json!({
            "Error": "InvalidInput", "Reason": "must be an RFC 3339 date-time",
            "Resolution": "Correct the request", "Field": "from", "OperationId": "op-1", "Status": 400
        });
        let failure = api_failure(400, &body);
        assert_eq!(failure.kind, Kind::BadInput);
        assert!(
            failure.message.starts_with("from: must be an RFC 3339"),
            "{failure}"
        );
        assert!(failure.message.contains("op-1"), "{failure}");
        assert_eq!(api_failure(502, &Value::Null).kind, Kind::Other);
    }
}
