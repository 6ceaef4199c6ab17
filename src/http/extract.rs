//! Extractors whose rejections are our [`ApiError`]: JSON bodies with
//! case-insensitive field names and errors that name the field, paging
//! parameters, path segments, and the authenticated caller.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, Visitor};

use crate::domain::ids::{ClientKind, SecretId, TenantId};
use crate::service::Caller;
use crate::storage::Page;
use crate::web::AppState;
use crate::web::error::ApiError;

/// Largest `count` a list accepts.
pub const MAX_COUNT: i64 = 1000;
pub const DEFAULT_COUNT: u32 = 100;

/// A JSON object body. Field names match case-insensitively (`description` =
/// `Description`); a malformed body or a wrong type is a 400 naming the field.
/// An empty body reads as `{}`.
pub struct JsonBody<T>(pub T);

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await?;
        let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
            Bytes::from_static(b"{}")
        } else {
            bytes
        };
        let mut value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::invalid("body", format!("malformed JSON: {e}")))?;
        let Some(object) = value.as_object_mut() else {
            return Err(ApiError::invalid("body", "must be a JSON object"));
        };
        let canonical = canonical_names(std::mem::take(object), struct_fields::<T>()).map_err(
            |bad| match bad {
                BadName::Repeated(name) => ApiError::invalid(name, "is given more than once"),
                BadName::Unknown(name, None) => {
                    ApiError::invalid(name, "is not a field of this request")
                }
                BadName::Unknown(name, Some(near)) => ApiError::invalid(
                    name,
                    format!("is not a field of this request; did you mean {near}?"),
                ),
            },
        )?;
        serde_path_to_error::deserialize(serde_json::Value::Object(canonical))
            .map(JsonBody)
            .map_err(|e| {
                let field = e.path().to_string();
                let field = if field == "." {
                    "body".to_owned()
                } else {
                    field
                };
                ApiError::invalid(field, readable(&e.into_inner().to_string()))
            })
    }
}

/// chrono's messages for a date-time that does not parse, as serde passes them on.
const DATE_TIME_ERRORS: [&str; 7] = [
    "input is out of range",
    "no possible date and time matching input",
    "input is not enough for unique date and time",
    "input contains invalid characters",
    "premature end of input",
    "trailing input",
    "bad or unsupported format string",
];

/// A deserialisation error as a reason a caller can act on: a date-time that
/// does not parse gets the format with an example (as the query filters do).
fn readable(message: &str) -> String {
    if DATE_TIME_ERRORS.contains(&message) {
        "must be an RFC 3339 date-time with an offset, e.g. 2026-01-31T00:00:00Z".to_owned()
    } else {
        message.to_owned()
    }
}

/// Why a body's field names are refused.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BadName {
    /// The same field twice (in two spellings).
    Repeated(String),
    /// A name the request does not have, with the closest one it has.
    Unknown(String, Option<&'static str>),
}

/// `object` with each key that matches one of `fields` case-insensitively
/// spelled as that field. A key that matches none is refused (unless `fields` is
/// empty: a body whose fields serde does not list, which checks its own keys).
pub(crate) fn canonical_names(
    object: serde_json::Map<String, serde_json::Value>,
    fields: &'static [&'static str],
) -> Result<serde_json::Map<String, serde_json::Value>, BadName> {
    let mut canonical = serde_json::Map::with_capacity(object.len());
    for (key, v) in object {
        let name = match fields.iter().find(|f| f.eq_ignore_ascii_case(&key)) {
            Some(f) => (*f).to_owned(),
            None if fields.is_empty() => key,
            None => return Err(BadName::Unknown(key.clone(), closest(&key, fields))),
        };
        if canonical.insert(name.clone(), v).is_some() {
            return Err(BadName::Repeated(name));
        }
    }
    Ok(canonical)
}

/// The field `name` was probably meant to be: the nearest by edit distance
/// (case-insensitive), when it is near enough to be a typo.
fn closest(name: &str, fields: &'static [&'static str]) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    let length = name.chars().count();
    let near = |f: &str| 2.max(f.len() / 4);
    fields
        .iter()
        // The distance is at least the difference in length: a far longer key (up
        // to the whole body) is never compared character by character.
        .filter(|f| length.abs_diff(f.len()) <= near(f))
        .map(|f| (edit_distance(&name, &f.to_ascii_lowercase()), *f))
        .filter(|(d, f)| *d <= near(f))
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substituted = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substituted.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// The field names of a `Deserialize` struct, read from serde's own derive.
fn struct_fields<T: DeserializeOwned>() -> &'static [&'static str] {
    struct Introspect<'a>(&'a mut &'static [&'static str]);

    impl<'de> Deserializer<'de> for Introspect<'_> {
        type Error = de::value::Error;

        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(de::Error::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> Result<V::Value, Self::Error> {
            *self.0 = fields;
            Err(de::Error::custom("fields read"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
            option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }

    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(Introspect(&mut fields));
    fields
}

/// `skip` and `count` from the query string (case-insensitive names).
#[derive(Debug, Clone, Copy)]
pub struct Paging(pub Page);

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map_err(|e| ApiError::invalid("query", e.body_text()))?;
        let mut page = Page {
            skip: 0,
            count: DEFAULT_COUNT,
        };
        for (key, value) in pairs {
            if key.eq_ignore_ascii_case("skip") {
                page.skip = parse_bounded("skip", &value, 0, i64::from(i32::MAX))?;
            } else if key.eq_ignore_ascii_case("count") {
                page.count = parse_bounded("count", &value, 0, MAX_COUNT)?;
            }
        }
        Ok(Self(page))
    }
}

fn parse_bounded(field: &'static str, value: &str, min: i64, max: i64) -> Result<u32, ApiError> {
    let n: i64 = value.trim().parse().map_err(|_| {
        ApiError::invalid(field, format!("must be a whole number from {min} to {max}"))
    })?;
    if !(min..=max).contains(&n) {
        return Err(ApiError::invalid(
            field,
            format!("must be from {min} to {max} (got {n})"),
        ));
    }
    u32::try_from(n).map_err(|_| ApiError::invalid(field, "out of range"))
}

/// The caller, authenticated from `Authorization: Bearer …`: the bootstrap token,
/// or an active access token issued for the management API.
pub struct Authenticated(pub Caller);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let token = header
            .and_then(|h| h.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim());
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or(ApiError::Unauthorized)?;
        if state
            .bootstrap_token
            .as_ref()
            .is_some_and(|b| b.matches(token))
        {
            return Ok(Self(Caller::PlatformAdministrator));
        }
        match state.tokens.caller(token).await {
            Ok(Some(caller)) => Ok(Self(caller)),
            Ok(None) => Err(ApiError::Unauthorized),
            Err(e) => Err(ApiError::Internal(format!("{e:?}"))),
        }
    }
}

/// Path segments as sent; parsed by [`TenantSegment::tenant`] and friends so an
/// unknown id is a 404, never a routing error.
#[derive(Debug, Deserialize)]
pub struct ResourcePath {
    #[serde(rename = "tenantId")]
    pub tenant_id: String,
    #[serde(rename = "clientKind", default)]
    pub client_kind: Option<String>,
    #[serde(rename = "clientId", default)]
    pub client_id: Option<String>,
    #[serde(rename = "secretId", default)]
    pub secret_id: Option<String>,
}

/// The resolved path of a request.
pub struct Resource {
    pub tenant: TenantId,
    pub kind: Option<ClientKind>,
    pub client_id: Option<String>,
    pub secret_id: Option<SecretId>,
}

impl<S: Send + Sync> FromRequestParts<S> for Resource {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(p) =
            axum::extract::Path::<ResourcePath>::from_request_parts(parts, state).await?;
        let tenant = TenantId::parse(&p.tenant_id).ok_or(ApiError::NotFound("tenant"))?;
        let kind = match p.client_kind.as_deref() {
            None => None,
            Some(segment) => {
                Some(ClientKind::from_route_segment(segment).ok_or(ApiError::UnknownRoute(None))?)
            }
        };
        let secret_id = match p.secret_id.as_deref() {
            None => None,
            Some(s) => Some(SecretId(s.parse::<i32>().map_err(|_| {
                ApiError::invalid("secretId", "must be a 32-bit integer")
            })?)),
        };
        Ok(Self {
            tenant,
            kind,
            client_id: p.client_id,
            secret_id,
        })
    }
}

impl Resource {
    pub fn kind(&self) -> Result<ClientKind, ApiError> {
        self.kind.ok_or(ApiError::UnknownRoute(None))
    }

    pub fn client(&self) -> Result<crate::service::secrets::ClientRef<'_>, ApiError> {
        Ok(crate::service::secrets::ClientRef {
            tenant: &self.tenant,
            kind: self.kind()?,
            client: self
                .client_id
                .as_deref()
                .ok_or(ApiError::NotFound("client"))?,
        })
    }

    pub fn secret(&self) -> Result<SecretId, ApiError> {
        self.secret_id.ok_or(ApiError::NotFound("secret"))
    }
}
